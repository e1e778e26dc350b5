import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'redis-ops-reports-'));

beforeAll(async () => {
  server = await startServer({ args: ['--enable-debug-command', 'yes'] });
  redis = clientFor(server);
  await redis.rpush('big:list', ...Array.from({ length: 2000 }, (_, i) => `item-${i}`));
  for (let i = 0; i < 50; i++) await redis.set(`user:${i}`, 'x', 'EX', 3600);
  await redis.select(2);
  await redis.set('other:db', 'y');
  await redis.select(0);
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('slowlog', () => {
  it('lists entries newest first, with secrets redacted and our own commands left out', async () => {
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.slowlog('RESET');
    await redis.call('CONFIG', 'SET', 'masterauth', 'TopSecret-1');
    await redis.call('ACL', 'SETUSER', 'ops', 'on', '>TopSecret-2', '~*', '+@all');
    await redis.call('AUTH', 'ops', 'TopSecret-2');
    await redis.set('marker', '1');
    const r = await runCli(['slowlog', '--url', server.url, '--json', '--show', '100']);
    await redis.config('SET', 'slowlog-log-slower-than', '10000');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/TopSecret/);
    const { entries } = JSON.parse(r.stdout);
    const commands = entries.map((e: { command: string }) => e.command);
    expect(commands).toContain('SET');
    expect(commands).toContain('CONFIG');
    const ids = entries.map((e: { id: number }) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(entries.every((e: { clientName: string | null }) => !String(e.clientName ?? '').startsWith('redis-ops'))).toBe(true);
    expect(entries[0]).toMatchObject({ node: `127.0.0.1:${server.port}`, durationUs: expect.any(Number), time: expect.any(Number) });
  });

  it('--include-self shows the tool\'s own commands', async () => {
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await runCli(['keys', 'scan', 'x:*', '--url', server.url]);
    const r = await runCli(['slowlog', '--url', server.url, '--json', '--show', '200', '--include-self']);
    await redis.config('SET', 'slowlog-log-slower-than', '10000');
    const names = JSON.parse(r.stdout).entries.map((e: { clientName: string | null }) => e.clientName);
    expect(names).toContain('redis-ops:keys-scan');
  });

  it('--since ID and --state return only newer entries', async () => {
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.set('a', '1');
    const state = join(dir, 'slowlog-state.json');
    const first = JSON.parse((await runCli(['slowlog', '--url', server.url, '--json', '--state', state])).stdout).entries;
    expect(first.length).toBeGreaterThan(0);
    const maxId = Math.max(...first.map((e: { id: number }) => e.id));
    const second = JSON.parse((await runCli(['slowlog', '--url', server.url, '--json', '--state', state])).stdout).entries;
    expect(second).toEqual([]);
    await redis.set('b', '2');
    const third = JSON.parse((await runCli(['slowlog', '--url', server.url, '--json', '--state', state])).stdout).entries;
    expect(third.map((e: { args: string[] }) => e.args.join(' '))).toEqual(['set b 2']);
    const since = JSON.parse((await runCli(['slowlog', '--url', server.url, '--json', '--since', String(maxId)])).stdout).entries;
    expect(since.every((e: { id: number }) => e.id > maxId)).toBe(true);
    expect(since.map((e: { args: string[] }) => e.args.join(' '))).toContain('set b 2');
    await redis.config('SET', 'slowlog-log-slower-than', '10000');
  });

  it('--group aggregates by command', async () => {
    const r = await runCli(['slowlog', '--url', server.url, '--json', '--group', '--show', '500']);
    const { groups } = JSON.parse(r.stdout);
    const set = groups.find((g: { command: string }) => g.command === 'SET');
    expect(set.count).toBeGreaterThanOrEqual(2);
    expect(set.p50Us).toBeLessThanOrEqual(set.maxUs);
  });

  it('slowlog reset goes through the rails', async () => {
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.set('logged', '1');
    await redis.config('SET', 'slowlog-log-slower-than', '10000');
    const refused = await runCli(['slowlog', 'reset', '--url', server.url]);
    expect(refused.code).toBe(2);
    expect(Number(await redis.call('SLOWLOG', 'LEN'))).toBeGreaterThan(0);
    const dry = await runCli(['slowlog', 'reset', '--url', server.url, '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, nodes: [{ reset: false }] });
    expect(Number(await redis.call('SLOWLOG', 'LEN'))).toBeGreaterThan(0);
    const done = await runCli(['slowlog', 'reset', '--url', server.url, '--yes', '--json']);
    expect(JSON.parse(done.stdout)).toMatchObject({ dryRun: false, nodes: [{ node: `127.0.0.1:${server.port}`, reset: true }] });
    expect(Number(await redis.call('SLOWLOG', 'LEN'))).toBe(0);
  });
});

describe('memory', () => {
  it('summarises INFO memory and MEMORY STATS per node, with the keyspace per DB and the doctor', async () => {
    const r = await runCli(['memory', '--url', server.url, '--json', '--no-scan']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.scan).toBeNull();
    expect(j.nodes).toHaveLength(1);
    const n = j.nodes[0];
    expect(n.usedBytes).toBeGreaterThan(0);
    expect(n.maxmemoryPolicy).toBe('noeviction');
    const keys = await redis.dbsize();
    expect(n.keyspace).toEqual([{ db: 0, keys, expires: 50, avgTtlMs: expect.any(Number) }, { db: 2, keys: 1, expires: 0, avgTtlMs: 0 }]);
    expect(typeof n.doctor).toBe('string');
    expect(n.luaBytes).toBeGreaterThan(0);
  });

  it('walks the keys for the top keys and patterns unless --no-scan', async () => {
    const j = JSON.parse((await runCli(['memory', '--url', server.url, '--json', '--top', '1'])).stdout);
    expect(j.scan.topByMemory[0]).toMatchObject({ key: 'big:list', exact: true });
    expect(j.scan.groups.map((g: { pattern: string }) => g.pattern)).toContain('user:*');
    const text = await runCli(['memory', '--url', server.url]);
    expect(text.stdout).toContain('MEMORY DOCTOR');
    expect(text.stdout).toContain(`db0: ${await redis.dbsize()} keys, 50 expiring`);
  });
});

describe('latency', () => {
  it('measures PING percentiles and says how to turn monitoring on', async () => {
    const r = await runCli(['latency', '--url', server.url, '--json', '--samples', '25', '--interval', '0']);
    expect(r.code).toBe(0);
    const [n] = JSON.parse(r.stdout).nodes;
    expect(n.ping.samples).toBe(25);
    expect(n.ping.minUs).toBeLessThanOrEqual(n.ping.p50Us);
    expect(n.ping.p50Us).toBeLessThanOrEqual(n.ping.p99Us);
    expect(n.ping.p99Us).toBeLessThanOrEqual(n.ping.maxUs);
    expect(n.monitor).toMatchObject({ enabled: false, hint: expect.stringContaining('CONFIG SET latency-monitor-threshold') });
    expect(n.commands.length).toBeGreaterThan(0);
    expect(n.commands[0]).toEqual({ command: expect.any(String), p50Us: expect.any(Number), p99Us: expect.any(Number), p999Us: expect.any(Number) });
  });

  it('reports LATENCY events when monitoring is on', async () => {
    await redis.config('SET', 'latency-monitor-threshold', '10');
    await redis.call('DEBUG', 'SLEEP', '0.05');
    const r = await runCli(['latency', '--url', server.url, '--json', '--samples', '3']);
    const [n] = JSON.parse(r.stdout).nodes;
    expect(n.monitor.enabled).toBe(true);
    expect(n.monitor.latest).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'command', maxMs: expect.any(Number) })]));
    expect(n.monitor.latest.find((e: { event: string }) => e.event === 'command').maxMs).toBeGreaterThanOrEqual(50);
    expect(n.monitor.doctor).toEqual(expect.any(String));
    const text = await runCli(['latency', '--url', server.url, '--samples', '3']);
    // Off a terminal: one result, not a stream.
    expect(text.stdout.match(/PING round trip/g)).toHaveLength(1);
  });
});
