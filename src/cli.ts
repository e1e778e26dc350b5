import { Command, CommanderError } from 'commander';
import { ExitCode, RedisOpsError, exitCodeFor } from './errors.js';
import { USAGE_EXIT_OVERRIDES } from './commands/health.js';
import { buildProgram } from './program.js';
import { Output, stdoutClosedUnderUs } from './output/output.js';
import { hoistGlobalOptions } from './commands/globalOptions.js';

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
  new Output({ color: !argv.includes('--no-color') }).error(msg.split('\n')[0]!);
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
      process.exitCode = ok ? 0 : USAGE_EXIT_OVERRIDES[argv[2]!] ?? ExitCode.usage;
      return;
    }
    const out = new Output({ color: !argv.includes('--no-color') });
    const msg = e instanceof Error ? e.message : String(e);
    out.error(msg.split('\n')[0]!);
    if (debugWanted(argv) && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    else if (!(e instanceof RedisOpsError)) process.stderr.write('run with --debug for details\n');
    process.exitCode = exitCodeFor(e);
  }
}

await main(process.argv);
// ioredis leaves a 2 s timer behind a failed connect; the work is done, so
// leave now. stdout and stderr are synchronous on Linux: nothing is lost.
process.exit(process.exitCode ?? 0);
