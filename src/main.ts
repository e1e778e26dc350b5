import { reportError, run } from './cli.js';
import { exitCodeFor } from './errors.js';
import { processStreams } from './commands/io.js';
import { Output, stdoutClosedUnderUs } from './output/output.js';

/**
 * The executable: the process-wide parts around cli.ts's `run` (the last
 * nets for stray failures, a closed stdout, leaving when done).
 */
const args = process.argv.slice(2);

/**
 * The last net: a failure nobody awaited (a driver's late rejection) is one
 * line like any other, not a stack trace and a page of bundle source.
 */
function reportStray(e: unknown): void {
  const io = processStreams();
  const msg = e instanceof Error ? e : new Error(String(e));
  reportError(msg, args, new Output({ color: !args.includes('--no-color') }, io), io);
  process.exit(exitCodeFor(e));
}

process.on('unhandledRejection', reportStray);
process.on('uncaughtException', reportStray);
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  // `redis-ops keys scan | head`: the reader left; that is not our failure.
  // A backup or a write's report on stdout: it is, and the command says so.
  if (e.code === 'EPIPE' && !stdoutClosedUnderUs()) process.exit(process.exitCode ?? 0);
});
process.exitCode = await run(args);
// ioredis leaves a 2 s timer behind a failed connect; the work is done, so
// leave now. stdout and stderr are synchronous on Linux: nothing is lost.
process.exit(process.exitCode);
