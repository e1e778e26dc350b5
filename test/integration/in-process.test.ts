/**
 * Commands run in-process with fake streams (cli.ts `run`): flag parsing,
 * option hoisting and the environment a run reads are tested without a
 * child process, and prove that a run touches only the streams it is given.
 */
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { run } from '../../src/cli.js';
import type { Streams } from '../../src/output/output.js';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';

class Sink extends Writable {
  readonly isTTY = false;
  private chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

async function runIn(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const stdin = Object.assign(Readable.from([]), { isTTY: false });
  const io = { stdout, stderr, stdin, env: { PATH: process.env.PATH ?? '', ...env } } as unknown as Streams;
  const code = await run(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

let server: LocalServer;
let redis: Redis;
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  await redis.mset('user:1', 'a', 'user:2', 'b', 'cache:1', 'c');
  await redis.select(1);
  await redis.set('other:db1', 'x');
  await redis.select(0);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('in-process runs on fake streams', () => {
  it('--version and help write to the given stdout, exit 0', async () => {
    expect(await runIn(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = await runIn(['help', 'keys', 'scan']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: redis-ops keys scan \[options\] \[pattern\]\n/);
    expect(help.stderr).toBe('');
  });

  it('an unknown option is a usage error (exit 2) on the given stderr', async () => {
    const r = await runIn(['keys', 'scan', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("error: unknown option '--bogus'");
  });

  it('an empty pattern is refused before any connection is made', async () => {
    const r = await runIn(['keys', 'delete', '', '--url', 'redis://127.0.0.1:1']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'error: the pattern argument is empty (an unset variable?): nothing was done\n' });
  });

  it('a bad duration names its flag and the value', async () => {
    const r = await runIn(['keys', 'delete', 'user:*', '--url', server.url, '--dry-run', '--max-duration', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --max-duration: "soon" is not a duration (examples: 500ms, 90s, 10m, 1h30m, 7d)\n');
    expect(await redis.exists('user:1', 'user:2')).toBe(2);
  });

  it('connection and output options before the command are hoisted behind it', async () => {
    const r = await runIn(['--url', server.url, '--json', 'keys', 'scan', 'user:*']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key).sort()).toEqual(['user:1', 'user:2']);
  });

  it('-n is the database, and the target comes from the run\'s own environment (REDIS_URL)', async () => {
    const r = await runIn(['keys', 'scan', '-n', '1', '--json'], { REDIS_URL: server.url });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key)).toEqual(['other:db1']);
  });

  it('an unreachable server is one line naming host:port, exit 1, nothing on stdout', async () => {
    const r = await runIn(['keys', 'scan', '--url', 'redis://127.0.0.1:1', '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('error: cannot connect to 127.0.0.1:1: connection refused (is the server running? check --host/--port/--url)\n');
  });
});
