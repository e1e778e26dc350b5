import { Command, CommanderError } from 'commander';
import { ExitCode, RedisOpsError, exitCodeFor } from './errors.js';
import { USAGE_EXIT_OVERRIDES } from './commands/health.js';
import { buildProgram } from './program.js';
import { Output, type Streams } from './output/output.js';
import { exitCodeOf, processStreams } from './commands/io.js';
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

function debugWanted(args: string[]): boolean {
  return args.includes('--debug');
}

/**
 * One run of the CLI on the given streams: parses, runs the command, and
 * returns the exit code; errors become one line on stderr. No side effects
 * at import and no process.exit, so tests run commands in-process with fake
 * streams (main.ts is the executable's entry).
 */
export async function run(args: string[], io: Streams = processStreams()): Promise<number> {
  const program = buildProgram(io);
  const color = !args.includes('--no-color');
  try {
    await program.parseAsync(commandLine(program, args), { from: 'user' });
    return exitCodeOf(program);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; anything else Commander rejects is a usage error.
      const ok = e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version';
      return ok ? 0 : USAGE_EXIT_OVERRIDES[args[0]!] ?? ExitCode.usage;
    }
    reportError(e, args, new Output({ color }, io), io);
    return exitCodeFor(e);
  }
}

/** An error as one line on stderr; the stack only with --debug. */
export function reportError(e: unknown, args: string[], out: Output, io: Streams): void {
  const msg = e instanceof Error ? e.message : String(e);
  out.error(msg.split('\n')[0]!);
  if (debugWanted(args) && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
  else if (!(e instanceof RedisOpsError)) io.stderr.write('run with --debug for details\n');
}
