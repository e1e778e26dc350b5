import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/redis-ops.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stdoutBuffer: Buffer;
  stderr: string;
  durationMs: number;
}

/** Runs the built CLI as cron would: no TTY, a clean environment plus `env`. */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // A test that forgets --url must fail, not reach a real server on 6379: port 1 refuses.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: 'redis://127.0.0.1:1', ...opts.env };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBuffer = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout: stdoutBuffer.toString('utf8'), stdoutBuffer, stderr: Buffer.concat(err).toString('utf8'), durationMs: Date.now() - started });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export function ndjson(text: string): Record<string, unknown>[] {
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

export interface RunningCli {
  child: import('node:child_process').ChildProcess;
  /** Resolves when the process has exited. */
  done: Promise<CliResult>;
  /** What the process has written to stderr so far. */
  stderrSoFar(): string;
}

/**
 * Starts the built CLI (as runCli does) without waiting for it, so a test can
 * act on it while it runs: kill it, stop its server, close its stdout.
 */
export function startCli(args: string[], opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {}): RunningCli {
  const started = Date.now();
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: 'redis://127.0.0.1:1', ...opts.env };
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stdout.on('error', () => {});
  child.stderr.on('data', (d) => err.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 25_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBuffer = Buffer.concat(out);
      resolve({ code: code ?? (signal ? 128 : -1), stdout: stdoutBuffer.toString('utf8'), stdoutBuffer, stderr: Buffer.concat(err).toString('utf8'), durationMs: Date.now() - started });
    });
  });
  child.stdin.end(opts.input ?? '');
  return { child, done, stderrSoFar: () => Buffer.concat(err).toString('utf8') };
}

/** Waits until `check` holds, looking every 20 ms (a state to reach, not a time to wait). */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
