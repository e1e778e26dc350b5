import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  const p = redis.pipeline();
  for (let i = 0; i < 200; i++) p.set(`user:${i}:profile`, `{"name":"user${i}"}`);
  for (let i = 0; i < 100; i++) p.hset(`session:${i}`, 'user', String(i)).expire(`session:${i}`, 1800);
  for (let i = 0; i < 40; i++) p.set(`cache:${i}`, 'c'.repeat(100), 'EX', 2 * 86400);
  p.rpush('events:log', ...Array.from({ length: 5000 }, (_, i) => `event-${i}`));
  p.sadd('tags', 'a', 'b', 'c');
  await p.exec();
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

async function stats(...args: string[]) {
  const r = await runCli(['keys', 'stats', '--url', server.url, '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('keys stats', () => {
  it('scans every key once and reports DBSIZE', async () => {
    const s = await stats();
    expect(s.scanned).toBe(342);
    expect(s.dbsize).toBe(342);
    expect(s.complete).toBe(true);
    expect(s.extrapolated).toBe(false);
    expect(s.nodes).toEqual([{ node: `127.0.0.1:${server.port}`, scanned: 342, dbsize: 342 }]);
  });

  it('counts per type, with memory', async () => {
    const s = await stats();
    const byType = Object.fromEntries(s.types.map((t: { type: string; count: number }) => [t.type, t.count]));
    expect(byType).toEqual({ string: 240, hash: 100, list: 1, set: 1 });
    for (const t of s.types) expect(t.bytes).toBeGreaterThan(0);
  });

  it('groups id-like segments into patterns with count, TTL share and type mix', async () => {
    const s = await stats();
    const g = Object.fromEntries(s.groups.map((x: { pattern: string }) => [x.pattern, x]));
    expect(g['user:*:profile']).toMatchObject({ count: 200, noTtlShare: 1, types: { string: 200 } });
    expect(g['session:*']).toMatchObject({ count: 100, noTtlShare: 0, types: { hash: 100 }, ttl: { none: 0, under1h: 100, h1to24: 0, d1to7: 0, over7d: 0 } });
    expect(g['cache:*']).toMatchObject({ count: 40, ttl: { d1to7: 40 } });
    expect(g['events:log'].biggest.key).toBe('events:log');
  });

  it('buckets TTLs over all keys', async () => {
    const s = await stats();
    expect(s.ttl).toEqual({ none: 202, under1h: 100, h1to24: 0, d1to7: 40, over7d: 0 });
  });

  it('lists the top keys by memory, measured exactly', async () => {
    const s = await stats('--top', '2');
    expect(s.topByMemory).toHaveLength(2);
    expect(s.topByMemory[0]).toMatchObject({ key: 'events:log', type: 'list', exact: true });
    expect(s.topByMemory[0].bytes).toBe(Number(await redis.call('MEMORY', 'USAGE', 'events:log', 'SAMPLES', '0')));
  });

  it('leaves lengths out on Redis < 7.2 unless --lengths', async () => {
    const without = await stats();
    expect(without.lengthsMeasured).toBe(false);
    expect(without.topByLength).toBeNull();
    const withLengths = await stats('--lengths', '--top', '1');
    expect(withLengths.topByLength).toEqual([expect.objectContaining({ key: 'events:log', length: 5000 })]);
  });

  it('folds patterns beyond --groups into [other]', async () => {
    const s = await stats('--groups', '2');
    expect(s.groups).toHaveLength(3);
    const other = s.groups[2];
    expect(other.pattern).toBe('[other]');
    expect(s.groups.reduce((a: number, g: { count: number }) => a + g.count, 0)).toBe(342);
  });

  it('--sample walks N keys and labels figures as extrapolated', async () => {
    const s = await stats('--sample', '100', '--count', '10');
    expect(s.scanned).toBe(100);
    expect(s.extrapolated).toBe(true);
    expect(s.factor).toBeCloseTo(3.42, 5);
    const total = s.types.reduce((a: number, t: { count: number }) => a + t.count, 0);
    expect(Math.abs(total - 342)).toBeLessThanOrEqual(4);
  });

  it('restricts to a pattern and a --depth', async () => {
    const s = await stats('user:*', '--depth', '1');
    expect(s.scanned).toBe(200);
    expect(s.groups.map((g: { pattern: string }) => g.pattern)).toEqual(['user:*']);
  });

  it('prints tables for people', async () => {
    const r = await runCli(['keys', 'stats', '--url', server.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('user:*:profile');
    expect(r.stdout).toMatch(/Keys: 342 scanned of 342/);
    // Not a TTY: no colour codes.
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });
});
