/**
 * `hotkeys` (issue 17): the key a load generator hammers comes first, by
 * MONITOR sampling and by LFU counters, on a server and on a 3-master cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startCluster, startServer, type LocalCluster, type LocalServer } from '../helpers/redis.js';
import { runCli, until } from '../helpers/cli.js';

/** redis-benchmark GETs with no -r: every request reads the one key `key:__rand_int__`. */
const HOT = 'key:__rand_int__';
function hammer(port: number): ChildProcess {
  return spawn('redis-benchmark', ['-p', String(port), '-n', '100000000', '-c', '2', '-t', 'get', '-q'], { stdio: 'ignore' });
}

async function busy(c: Redis): Promise<void> {
  await until(async () => /cmdstat_get:calls=[1-9]\d{3,}/.test(await c.info('commandstats')), 'redis-benchmark under way');
}

describe('hotkeys on one server', () => {
  let server: LocalServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startServer();
    redis = clientFor(server);
    await redis.mset(HOT, 'v', 'user:1', 'a', 'user:2', 'b');
    await redis.call('ACL', 'SETUSER', 'nomonitor', 'on', '>pw', '~*', '+@all', '-monitor');
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('MONITOR sampling ranks the hammered key first, with the command mix and patterns', async () => {
    const bench = hammer(server.port);
    try {
      await busy(redis);
      const r = await runCli(['hotkeys', '--url', server.url, '--duration', '2s', '--yes', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { method: Record<string, string>; keys: { key: string; node: string; ops: number; share: number }[]; commands: { command: string; share: number }[]; patterns: { pattern: string }[]; sampled: { lines: number } };
      expect(doc.method).toEqual({ [`127.0.0.1:${server.port}`]: 'monitor' });
      expect(doc.keys[0]).toMatchObject({ key: HOT, node: `127.0.0.1:${server.port}`, share: 1 });
      expect(doc.keys[0]!.ops).toBeGreaterThan(100);
      expect(doc.commands[0]!.command).toBe('GET');
      // The pattern is inferred as in keys stats: '__rand_int__' is a word, not an id.
      expect(doc.patterns[0]!.pattern).toBe(HOT);
      expect(doc.sampled.lines).toBeGreaterThanOrEqual(doc.keys[0]!.ops);
    } finally {
      bench.kill('SIGKILL');
    }
  });

  it('MONITOR is asked for off a terminal (exit 2 without --yes), and a user without +monitor is refused clearly', async () => {
    const noYes = await runCli(['hotkeys', '--url', server.url, '--duration', '1s']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    const denied = await runCli(['hotkeys', '--url', `redis://nomonitor:pw@127.0.0.1:${server.port}`, '--duration', '1s', '--yes', '--json']);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).method).toEqual({ [`127.0.0.1:${server.port}`]: 'refused' });
    expect(denied.stderr).toMatch(/^warning: 127\.0\.0\.1:\d+: MONITOR refused: NOPERM .*\+monitor/m);
  });

  it('bad input is exit 2 before anything runs', async () => {
    expect((await runCli(['hotkeys', '--url', server.url, '--method', 'guess'])).stderr).toBe('error: --method: "guess" is not auto, hotkeys, lfu or monitor\n');
    expect((await runCli(['hotkeys', '--url', server.url, '--duration', '5m', '--yes'])).code).toBe(2);
  });
});

describe('hotkeys under an LFU policy', () => {
  let server: LocalServer;
  beforeAll(async () => {
    // lfu-log-factor 0: every access adds one to the counter, so the figures are exact.
    server = await startServer({ args: ['--maxmemory-policy', 'allkeys-lfu', '--lfu-log-factor', '0'] });
  });
  afterAll(async () => { await server.stop(); });

  it('walks OBJECT FREQ (no MONITOR, no question) and ranks by it', async () => {
    const c = clientFor(server);
    await c.mset('hot:1', 'x', 'warm:1', 'y', 'cold:1', 'z');
    const p = c.pipeline();
    for (let i = 0; i < 300; i++) p.get('hot:1');
    for (let i = 0; i < 10; i++) p.get('warm:1');
    await p.exec();
    c.disconnect();
    const r = await runCli(['hotkeys', '--url', server.url, '--json', '--top', '3']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { method: Record<string, string>; keys: { key: string; freq: number }[] };
    expect(doc.method).toEqual({ [`127.0.0.1:${server.port}`]: 'lfu' });
    // A new key starts at 5 (LFU_INIT_VAL); each read adds one; the counter stops at 255.
    expect(doc.keys.map((k) => [k.key, k.freq])).toEqual([['hot:1', 255], ['warm:1', 15], ['cold:1', 5]]);
  });
});

describe('hotkeys on a 3-master cluster', () => {
  let cluster: LocalCluster;
  let lfu: LocalCluster;
  beforeAll(async () => {
    cluster = await startCluster();
    lfu = await startCluster(3, ['--maxmemory-policy', 'allkeys-lfu', '--lfu-log-factor', '0']);
  });
  afterAll(async () => {
    await cluster.stop();
    await lfu.stop();
  });

  /** The node that owns a key's slot. */
  async function owner(c: LocalCluster, key: string): Promise<LocalServer> {
    const admin = clientFor(c.nodes[0]!);
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
    const slots = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    admin.disconnect();
    const port = slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
    return c.nodes.find((n) => n.port === port)!;
  }

  it('MONITOR on every primary at once: the hammered key first, on the node that holds it', async () => {
    const node = await owner(cluster, HOT);
    const c = clientFor(node);
    await c.set(HOT, 'v');
    const bench = hammer(node.port);
    try {
      await busy(c);
      const r = await runCli(['hotkeys', '--url', cluster.url, '--duration', '2s', '--yes', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { method: Record<string, string>; keys: { key: string; node: string }[] };
      expect(Object.values(doc.method)).toEqual(['monitor', 'monitor', 'monitor']);
      expect(doc.keys[0]).toMatchObject({ key: HOT, node: `127.0.0.1:${node.port}` });
    } finally {
      bench.kill('SIGKILL');
      c.disconnect();
    }
  });

  it('LFU counters on every primary, merged', async () => {
    const keys = ['hot:{a}', 'warm:{b}', 'cold:{c}'];
    for (const [i, key] of keys.entries()) {
      const node = await owner(lfu, key);
      const c = clientFor(node);
      await c.set(key, 'v');
      for (let n = 0; n < [300, 10, 0][i]!; n++) await c.get(key);
      c.disconnect();
    }
    const r = await runCli(['hotkeys', '--url', lfu.url, '--json', '--top', '3']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { method: Record<string, string>; keys: { key: string; freq: number }[] };
    expect(Object.values(doc.method)).toEqual(['lfu', 'lfu', 'lfu']);
    expect(doc.keys.map((k) => [k.key, k.freq])).toEqual([['hot:{a}', 255], ['warm:{b}', 15], ['cold:{c}', 5]]);
  });
});
