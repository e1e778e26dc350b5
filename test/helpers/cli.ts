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
