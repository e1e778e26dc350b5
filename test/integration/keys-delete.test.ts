import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { allKeys, clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { ndjson, runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'redis-ops-delete-'));

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
});

beforeEach(async () => {
  await redis.flushall();
  const p = redis.pipeline();
  for (let i = 0; i < 30; i++) p.set(`cache:${i}`, 'v');
  for (let i = 0; i < 5; i++) p.set(`keep:${i}`, 'v');
  p.hset('cache:hash', 'f', 'v');
  await p.exec();
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const del = (...args: string[]) => runCli(['keys', 'delete', '--url', server.url, ...args]);

describe('keys delete', () => {
  it('refuses off a TTY without --yes and changes nothing', async () => {
    const r = await del('cache:*');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to change data without confirmation.*--yes/);
    expect(await redis.dbsize()).toBe(36);
  });

  it('--dry-run lists what would go and changes nothing', async () => {
    const r = await del('cache:*', '--dry-run', '--json');
    expect(r.code).toBe(0);
    const recs = ndjson(r.stdout);
    expect(recs.map((x) => x.key).sort()).toEqual([...Array.from({ length: 30 }, (_, i) => `cache:${i}`), 'cache:hash'].sort());
    expect(recs[0]).toMatchObject({ action: 'unlink', db: 0 });
    expect(await redis.dbsize()).toBe(36);
  });

  it('--yes unlinks exactly the matching keys and reports JSON', async () => {
    const r = await del('cache:*', '--yes', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, pattern: 'cache:*', matched: 31, deleted: 31, vanished: 0, stoppedBy: null });
    expect(await allKeys(redis)).toEqual(['keep:0', 'keep:1', 'keep:2', 'keep:3', 'keep:4']);
  });

  it('--type narrows what is deleted', async () => {
    const r = await del('cache:*', '--yes', '--type', 'hash');
    expect(r.code).toBe(0);
    expect(await redis.exists('cache:hash')).toBe(0);
    expect(await redis.dbsize()).toBe(35);
  });

  it('--limit stops after N and exits 3 when more matched', async () => {
    const r = await del('cache:*', '--yes', '--limit', '10', '--json', '--count', '5');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ deleted: 10, stoppedBy: 'limit' });
    expect(await redis.dbsize()).toBe(26);
  });

  it('--limit equal to the matches is a complete run (exit 0)', async () => {
    const r = await del('keep:*', '--yes', '--limit', '5');
    expect(r.code).toBe(0);
    expect(await redis.dbsize()).toBe(31);
  });

  it('--rate paces the deletes', async () => {
    const started = Date.now();
    const r = await del('keep:*', '--yes', '--rate', '4');
    expect(r.code).toBe(0);
    // 5 keys at 4/s: the fifth may start only after 1 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await redis.dbsize()).toBe(31);
  });

  it('--log writes one NDJSON line per deleted key, mode 0600', async () => {
    const log = join(dir, 'changes.ndjson');
    const r = await del('keep:*', '--yes', '--log', log);
    expect(r.code).toBe(0);
    const lines = ndjson(readFileSync(log, 'utf8'));
    expect(lines.map((l) => l.key).sort()).toEqual(['keep:0', 'keep:1', 'keep:2', 'keep:3', 'keep:4']);
    expect(lines[0]).toMatchObject({ command: 'keys delete', action: 'unlink', db: 0, node: `127.0.0.1:${server.port}` });
    expect(typeof lines[0].time).toBe('string');
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('a log that cannot be opened stops the run before any change', async () => {
    const r = await del('keep:*', '--yes', '--log', '/nonexistent/dir/log');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log: cannot open');
    expect(await redis.dbsize()).toBe(36);
  });

  it('bad budget flags are usage errors that change nothing', async () => {
    const r = await del('cache:*', '--yes', '--rate', 'fast');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--rate');
    expect(await redis.dbsize()).toBe(36);
  });
});
