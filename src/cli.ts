import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, RedisOpsError, exitCodeFor } from './errors.js';
import { registerBackup } from './commands/backup.js';
import { registerHealth, USAGE_EXIT_OVERRIDES } from './commands/health.js';
import { registerKeys } from './commands/keys.js';
import { registerLocks } from './commands/locks.js';
import { registerQueue } from './commands/queue.js';
import { registerWorkers } from './commands/workers.js';
import { registerReports } from './commands/reports.js';
import { registerSlowlog } from './commands/slowlog.js';
import { registerTtl } from './commands/ttl.js';
import { registerSandbox } from './commands/sandbox.js';
import { Output, stdoutClosedUnderUs } from './output/output.js';
import { checkLogPath, rejectBlankArguments } from './commands/blank.js';
import { hoistGlobalOptions } from './commands/globalOptions.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
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
    .configureOutput({ outputError: (s, write) => write(s.replace(/^error: /, 'error: ')) })
    .hook('preAction', (_program, action) => {
      rejectBlankArguments(action);
      checkLogPath(action, (m) => new Output(action.opts()).warn(m));
    });
  registerKeys(program);
  registerHealth(program);
  registerSlowlog(program);
  registerReports(program);
  registerBackup(program);
  registerTtl(program);
  registerLocks(program);
  registerQueue(program);
  registerWorkers(program);
  registerSandbox(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/**
 * The arguments as the commands read them: `help keys scan` is `keys scan
 * --help`; connection and output options given before the command path are
 * moved behind it.
 */
function commandLine(program: Command, args: string[]): string[] {
  if (args[0] === 'help' && args.length > 1) return [...args.slice(1), '--help'];
  return hoistGlobalOptions(program, args);
}

function debugWanted(argv: string[]): boolean {
  return argv.includes('--debug');
}

/**
 * The last net: a failure nobody awaited (a driver's late rejection) is one
 * line like any other, not a stack trace and a page of bundle source.
 */
function reportStray(e: unknown, argv: string[]): void {
  const msg = e instanceof Error ? e.message : String(e);
  new Output({ color: !argv.includes('--no-color') }).error(msg.split('\n')[0]);
  if (debugWanted(argv) && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('run with --debug for details\n');
  process.exit(exitCodeFor(e));
}

export async function main(argv: string[]): Promise<void> {
  process.on('unhandledRejection', (e) => reportStray(e, argv));
  process.on('uncaughtException', (e) => reportStray(e, argv));
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // `redis-ops keys scan | head`: the reader left; that is not our failure.
    // A backup or a write's report on stdout: it is, and the command says so.
    if (e.code === 'EPIPE' && !stdoutClosedUnderUs()) process.exit(process.exitCode ?? 0);
  });
  const program = buildProgram();
  try {
    await program.parseAsync([...argv.slice(0, 2), ...commandLine(program, argv.slice(2))]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; anything else Commander rejects is a usage error.
      const ok = e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version';
      process.exitCode = ok ? 0 : USAGE_EXIT_OVERRIDES[argv[2]] ?? ExitCode.usage;
      return;
    }
    const out = new Output({ color: !argv.includes('--no-color') });
    const msg = e instanceof Error ? e.message : String(e);
    out.error(msg.split('\n')[0]);
    if (debugWanted(argv) && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    else if (!(e instanceof RedisOpsError)) process.stderr.write('run with --debug for details\n');
    process.exitCode = exitCodeFor(e);
  }
}

await main(process.argv);
// ioredis leaves a 2 s timer behind a failed connect; the work is done, so
// leave now. stdout and stderr are synchronous on Linux: nothing is lost.
process.exit(process.exitCode ?? 0);
