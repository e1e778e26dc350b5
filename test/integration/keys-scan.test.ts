import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, makeIdle, startServer, type LocalServer } from '../helpers/redis.js';
import { ndjson, runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
const BIN_KEY = Buffer.from([0x62, 0x69, 0x6e, 0x3a, 0xff, 0x00, 0xfe]);

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  const p = redis.pipeline();
  for (let i = 0; i < 300; i++) p.set(`user:${i}:profile`, 'x');
  for (let i = 0; i < 50; i++) p.set(`session:${i}`, 's', 'EX', 600);
  for (let i = 0; i < 20; i++) p.set(`cache:${i}`, 'c', 'EX', 7200);
  p.rpush('queue:mail', 'a', 'b');
  p.hset('conf:app', 'k', 'v');
  p.set(BIN_KEY, 'binary');
  p.set('bin:line\nbreak', 'v');
  await p.exec();
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const url = () => ['--url', server.url];

describe('keys scan', () => {
  it('lists exactly the keys matching a pattern, one per line', async () => {
    const r = await runCli(['keys', 'scan', 'session:*', ...url()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const keys = r.stdout.trim().split('\n').sort();
    expect(keys).toEqual(Array.from({ length: 50 }, (_, i) => `session:${i}`).sort());
  });

  it('walks the whole keyspace without a pattern', async () => {
    const r = await runCli(['keys', 'scan', ...url(), '--count', '7']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(300 + 50 + 20 + 4);
  });

  it('filters by --type', async () => {
    const r = await runCli(['keys', 'scan', ...url(), '--type', 'list']);
    expect(r.stdout).toBe('queue:mail\n');
  });

  it('--no-ttl keeps only keys without expiry', async () => {
    const r = await runCli(['keys', 'scan', ...url(), '--no-ttl', '--json']);
    const recs = ndjson(r.stdout);
    expect(recs).toHaveLength(304);
    expect(recs.every((k) => k.ttlMs === null)).toBe(true);
  });

  it('--ttl-below keeps only keys expiring sooner', async () => {
    const r = await runCli(['keys', 'scan', ...url(), '--ttl-below', '1h']);
    expect(r.stdout.trim().split('\n').sort()).toEqual(Array.from({ length: 50 }, (_, i) => `session:${i}`).sort());
  });

  it('--limit stops after N keys and exits 0', async () => {
    const r = await runCli(['keys', 'scan', 'user:*', ...url(), '--limit', '7']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(7);
  });

  it('--json gives NDJSON with type, ttlMs, node and db; binary keys as key64', async () => {
    const r = await runCli(['keys', 'scan', 'bin:*', ...url(), '--json']);
    expect(r.code).toBe(0);
    const recs = ndjson(r.stdout).sort((a, b) => String(a.key ?? a.key64).localeCompare(String(b.key ?? b.key64)));
    expect(recs).toEqual([
      { key64: BIN_KEY.toString('base64'), type: 'string', ttlMs: null, node: `127.0.0.1:${server.port}`, db: 0 },
      { key: 'bin:line\nbreak', type: 'string', ttlMs: null, node: `127.0.0.1:${server.port}`, db: 0 },
    ].sort((a, b) => String(a.key ?? a.key64).localeCompare(String(b.key ?? b.key64))));
    const back = Buffer.from(String(recs.find((x) => x.key64)!.key64), 'base64');
    expect(back.equals(BIN_KEY)).toBe(true);
  });

  it('escapes binary keys in text output and writes raw bytes with -0', async () => {
    const text = await runCli(['keys', 'scan', 'bin:*', ...url()]);
    expect(text.stdout.split('\n').filter(Boolean).sort()).toEqual(['bin:\\xff\\x00\\xfe', 'bin:line\\nbreak']);
    const raw = await runCli(['keys', 'scan', 'bin:*', ...url(), '-0']);
    // The binary key holds a NUL of its own, so compare whole outputs in either order.
    const a = Buffer.concat([BIN_KEY, Buffer.from([0]), Buffer.from('bin:line\nbreak\0')]);
    const b = Buffer.concat([Buffer.from('bin:line\nbreak\0'), BIN_KEY, Buffer.from([0])]);
    expect(raw.stdoutBuffer.equals(a) || raw.stdoutBuffer.equals(b)).toBe(true);
  });

  it('--idle-over keeps only keys idle for longer', async () => {
    // Not small integers: Redis shares those objects, and their idle time is the server's uptime.
    await redis.set('idle:old', 'old value');
    await makeIdle(redis, 'idle:old', 3600);
    await redis.set('idle:new', 'new value');
    const r = await runCli(['keys', 'scan', 'idle:*', ...url(), '--idle-over', '10m']);
    expect(r.stdout).toBe('idle:old\n');
  });

  it('rejects --null with --json, and a bad --type, with exit 2 and one line', async () => {
    const a = await runCli(['keys', 'scan', ...url(), '--json', '-0']);
    expect(a.code).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    const b = await runCli(['keys', 'scan', ...url(), '--type', 'blob']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--type: "blob" is not a key type');
  });

  it('Ctrl-C stops a walk, keeps what was printed, and exits 3', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const p = redis.pipeline();
    for (let i = 0; i < 30000; i++) p.set(`bulk:${i}`, 'x');
    await p.exec();
    const child = spawn(process.execPath, [BIN, 'keys', 'scan', 'bulk:*', '--url', server.url, '--count', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    // Interrupt mid-walk: once keys have started to arrive.
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (out.length > 0) { clearInterval(t); resolve(); } }, 10); });
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(3);
    const printed = out.split('\n').filter(Boolean);
    expect(printed.length).toBeGreaterThan(0);
    expect(printed.length).toBeLessThan(30000);
    expect(printed.every((k) => /^bulk:\d+$/.test(k))).toBe(true);
    expect(err).toMatch(/interrupted after \d/);
    await runCli(['keys', 'delete', 'bulk:*', '--url', server.url, '--yes']);
  });

  it('names its connection so its traffic is recognisable', async () => {
    const r = await runCli(['keys', 'scan', 'nothing:*', ...url()]);
    expect(r.code).toBe(0);
    // The connection is gone by now; the server remembers no names. Check live instead:
    const { openTarget } = await import('../../src/lib/connect/target.js');
    const t = await openTarget({ host: '127.0.0.1', port: server.port, db: 0, tls: null, mode: 'auto', sentinels: [], timeoutMs: 2000 }, { purpose: 'probe' });
    const list = (await redis.call('CLIENT', 'LIST')) as string;
    await t.close();
    expect(list).toMatch(/name=redis-ops:probe /);
  });
});
