import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerBackup } from './commands/backup.js';
import { registerHealth } from './commands/health.js';
import { registerKeys } from './commands/keys.js';
import { registerLocks } from './commands/locks.js';
import { registerQueue } from './commands/queue.js';
import { registerWorkers } from './commands/workers.js';
import { registerClients } from './commands/clients.js';
import { registerTop } from './commands/top.js';
import { registerExporter } from './commands/exporter.js';
import { registerRdb } from './commands/rdb.js';
import { registerHotkeys } from './commands/hotkeys.js';
import { registerDiff } from './commands/diff.js';
import { registerCopy } from './commands/copy.js';
import { registerReports } from './commands/reports.js';
import { registerSlowlog } from './commands/slowlog.js';
import { registerTtl } from './commands/ttl.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerCompletion } from './commands/completion.js';
import { checkLogPath, rejectBlankArguments } from './commands/blank.js';
import { addExamplesAndGroups } from './commands/examples.js';
import type { Streams } from './output/output.js';
import { outputFor } from './commands/context.js';
import { attachIo, processStreams } from './commands/io.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The whole command tree, without side effects: the CLI parses with it, the
 * docs are generated from it, tests read it.
 */
export function buildProgram(io: Streams = processStreams()): Command {
  const program = new Command('redis-ops')
    .description('Inspect and maintain Redis and Valkey in production: safe by default, ready for cron and CI.')
    .version(version, '-V, --version')
    // -h is the host, as in redis-cli.
    .helpOption('--help', 'show help')
    .showSuggestionAfterError(true)
    // A parent's options count only before its subcommand: `slowlog reset --url X`
    // gives --url to reset, not to slowlog.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .hook('preAction', (_program, action) => {
      rejectBlankArguments(action);
      checkLogPath(action, (m) => outputFor(action.opts(), action).warn(m));
    });
  attachIo(program, io);
  registerKeys(program);
  registerHealth(program);
  registerSlowlog(program);
  registerReports(program);
  registerBackup(program);
  registerTtl(program);
  registerLocks(program);
  registerQueue(program);
  registerWorkers(program);
  registerClients(program);
  registerTop(program);
  registerExporter(program);
  registerRdb(program);
  registerHotkeys(program);
  registerCopy(program);
  registerDiff(program);
  registerSandbox(program);
  registerCompletion(program);
  addExamplesAndGroups(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}
