/**
 * Expected failures. Each class maps to one documented exit code (see
 * exitCodeFor); messages are one line, name host:port, never a password.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  partial: 3,
} as const;

export class RedisOpsError extends Error {
  readonly exitCode: number = ExitCode.failure;
}

/** Bad flags, bad config, bad input data, a refused confirmation. */
export class UsageError extends RedisOpsError {
  override readonly exitCode: number = ExitCode.usage;
}

/** Malformed input data (a file, stdin, a JSON argument). */
export class InputError extends UsageError {}

/** Unreachable server, DNS failure, timeout. */
export class ConnectionError extends RedisOpsError {}

/**
 * Connected, but the server did not answer within --timeout: a stopped or
 * overloaded server. health grades it CRITICAL (a refused connection is
 * UNKNOWN: nothing could be checked).
 */
export class NoAnswerError extends ConnectionError {}

/** Wrong password, NOAUTH. */
export class AuthError extends RedisOpsError {}

/** NOPERM: the ACL user lacks a command or key. */
export class PermissionError extends RedisOpsError {}

/** A command the server answered with an error (unknown command, wrong type…). */
export class CommandError extends RedisOpsError {}

/**
 * Not an error in the data: the run stopped early (budget, --max-duration,
 * Ctrl-C) and what was done so far has been reported.
 */
export class PartialResult extends RedisOpsError {
  override readonly exitCode: number = ExitCode.partial;
}

export function exitCodeFor(err: unknown): number {
  return err instanceof RedisOpsError ? err.exitCode : ExitCode.failure;
}

/**
 * The same error with more said after it (how far a run got, where its undo
 * file is): same class, same exit code.
 */
export function withDetail(err: Error, detail: string): Error {
  const message = `${err.message.split('\n')[0]}; ${detail}`;
  if (err instanceof RedisOpsError) {
    const Kind = err.constructor as new (m: string) => RedisOpsError;
    return new Kind(message);
  }
  return new RedisOpsError(message);
}
