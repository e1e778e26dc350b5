import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import { openTarget } from '../../src/lib/connect/target.js';
import { Rails } from '../../src/lib/rails.js';
import { railsFrom } from '../../src/commands/railsFlags.js';
import { cleanupTtl } from '../../src/lib/ttl/cleanup.js';
import { allKeys, clientFor, makeIdle, startCluster, startServer, type LocalServer } from '../helpers/redis.js';
import { ndjson, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'redis-ops-ttl-'));
let server: LocalServer;
let redis: Redis;
const config = join(dir, 'config.json');
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace('Z', '');

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  writeFileSync(config, JSON.stringify({ ttlRules: [{ pattern: 'cache:*', maxTtl: '1h' }] }));
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

const cli = (...args: string[]) => runCli([...args, '--url', server.url, '--config', config]);

describe('ttl audit', () => {
  it('groups keys without expiry by pattern, with bytes, longest idle and the TTL spread', async () => {
    for (let i = 0; i < 6; i++) await redis.set(`user:${i}`, `{"id":${i}}`);
    for (let i = 0; i < 4; i++) await redis.set(`session:${i}`, 'x', 'EX', 600);
    await redis.set('session:99', 'x');
    const r = await cli('ttl', 'audit', '--json');
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a.scanned).toBe(11);
    expect(a.noTtl.count).toBe(7);
    const users = a.patterns.find((p: { pattern: string }) => p.pattern === 'user:*');
    expect(users).toMatchObject({ db: 0, count: 6, noTtl: { count: 6 }, ttl: { none: 6, under1h: 0 } });
    expect(users.noTtl.bytes).toBeGreaterThan(0);
    expect(users.noTtl.maxIdleSec).toBeGreaterThanOrEqual(0);
    expect(a.patterns.find((p: { pattern: string }) => p.pattern === 'session:*')).toMatchObject({ count: 5, noTtl: { count: 1 }, ttl: { none: 1, under1h: 4 } });
  });

  it('reports TTL rule violations; --fail-on-violation exits 1 (a CI check)', async () => {
    await redis.set('cache:ok', 'x', 'EX', 600);
    await redis.set('cache:immortal', 'x');
    await redis.set('cache:toolong', 'x', 'EX', 7200);
    const r = await cli('ttl', 'audit', '--json', '--fail-on-violation');
    expect(r.code).toBe(1);
    const a = JSON.parse(r.stdout);
    expect(a.rules).toEqual([expect.objectContaining({ pattern: 'cache:*', maxTtlMs: 3_600_000, checked: 3, violations: 2 })]);
    expect(a.rules[0].sample.map((s: { key: string }) => s.key).sort()).toEqual(['cache:immortal', 'cache:toolong']);
    await redis.expire('cache:immortal', 60);
    await redis.expire('cache:toolong', 60);
    expect((await cli('ttl', 'audit', '--fail-on-violation')).code).toBe(0);
  });
});

describe('ttl cleanup', () => {
  it('--set-ttl gives keys without expiry a TTL, and leaves keys with one alone', async () => {
    await redis.set('tmp:a', '1x');
    await redis.set('tmp:b', '2x');
    await redis.set('tmp:c', '3x', 'EX', 30);
    const r = await cli('ttl', 'cleanup', 'tmp:*', '--set-ttl', '1h', '--yes', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, action: 'expire', scanned: 3, matched: 2, changed: 2 });
    expect(await redis.ttl('tmp:a')).toBeGreaterThan(3590);
    expect(await redis.ttl('tmp:c')).toBeLessThanOrEqual(30);
  });

  it('--ttl-above shortens long TTLs; --delete with --idle-over deletes only idle keys', async () => {
    await redis.set('s:long', 'x', 'EX', 86400);
    await redis.set('s:short', 'x', 'EX', 60);
    const r = await cli('ttl', 'cleanup', 's:*', '--ttl-above', '1h', '--set-ttl', '1h', '--yes', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ matched: 1, changed: 1 });
    expect(await redis.ttl('s:long')).toBeLessThanOrEqual(3600);
    await redis.set('idle:old', 'old value');
    await makeIdle(redis, 'idle:old', 3600);
    await redis.set('idle:new', 'new value');
    const d = await cli('ttl', 'cleanup', 'idle:*', '--delete', '--idle-over', '10m', '--yes', '--json');
    expect(JSON.parse(d.stdout)).toMatchObject({ matched: 1, changed: 1 });
    expect(await allKeys(redis)).toEqual(['idle:new', 's:long', 's:short']);
  });

  it('--age-field --older-than: JSON strings and hash fields, ISO without zone as UTC or epoch; missing or garbage is skipped, never deleted', async () => {
    await redis.set('job:old', JSON.stringify({ created_at: iso(72 * 3600_000) }));
    await redis.set('job:new', JSON.stringify({ created_at: iso(3600_000) }));
    await redis.set('job:epoch', JSON.stringify({ created_at: (Date.now() - 72 * 3600_000) / 1000 }));
    await redis.hset('job:hash', 'created_at', String(Date.now() - 72 * 3600_000));
    await redis.set('job:missing', JSON.stringify({ other: 1 }));
    await redis.set('job:garbage', JSON.stringify({ created_at: 'not a date' }));
    await redis.set('job:notjson', 'plain text');
    const r = await cli('ttl', 'cleanup', 'job:*', '--delete', '--no-ttl', '--age-field', 'created_at', '--older-than', '48h', '--yes', '--json');
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ matched: 3, changed: 3, skipped: { ageFieldMissing: 2, ageFieldUnparsable: 1 } });
    expect(await allKeys(redis)).toEqual(['job:garbage', 'job:missing', 'job:new', 'job:notjson']);
  });

  it('--rules gives rule breakers their rule\'s maximum TTL', async () => {
    await redis.set('cache:immortal', 'x');
    await redis.set('cache:ok', 'x', 'EX', 60);
    const r = await cli('ttl', 'cleanup', 'cache:*', '--rules', '--yes', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ matched: 1, changed: 1 });
    expect(await redis.ttl('cache:immortal')).toBeGreaterThan(3590);
    expect(await redis.ttl('cache:ok')).toBeLessThanOrEqual(60);
  });

  it('re-checks atomically: a key given a TTL or rewritten between plan and write is left alone and counted', async () => {
    await redis.set('r:gets-ttl', JSON.stringify({ created_at: iso(72 * 3600_000) }));
    await redis.set('r:rewritten', JSON.stringify({ created_at: iso(72 * 3600_000) }));
    await redis.set('r:deleted', JSON.stringify({ created_at: iso(72 * 3600_000) }));
    await redis.set('r:stays-old', JSON.stringify({ created_at: iso(72 * 3600_000) }));
    const target = await openTarget({ host: '127.0.0.1', port: server.port, db: 0, tls: null, mode: 'auto', sentinels: [], timeoutMs: 5000 });
    try {
      const summary = await cleanupTtl(target, {
        match: 'r:*', dbs: [0], count: 100, action: { kind: 'unlink' }, noTtl: true,
        age: { field: 'created_at', olderThanMs: 48 * 3600_000 },
        beforeWrite: async () => {
          await redis.expire('r:gets-ttl', 600);
          await redis.set('r:rewritten', JSON.stringify({ created_at: iso(72 * 3600_000), touched: true }));
          await redis.del('r:deleted');
        },
      }, new Rails(railsFrom('ttl cleanup', { yes: true })), null);
      expect(summary).toMatchObject({ matched: 4, changed: 1, skipped: { expiryChanged: 1, valueChanged: 1, gone: 1 } });
      expect(await allKeys(redis)).toEqual(['r:gets-ttl', 'r:rewritten']);
    } finally {
      await target.close();
    }
  });

  it('--backup writes every key before it changes: restore brings them back exactly', async () => {
    await redis.set('b:1', 'one');
    await redis.hset('b:2', 'f', 'v');
    await redis.set('b:keep', 'x', 'EX', 600);
    const file = join(dir, 'undo.jsonl');
    const r = await cli('ttl', 'cleanup', 'b:*', '--delete', '--no-ttl', '--backup', file, '--yes', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: 2 });
    expect(await allKeys(redis)).toEqual(['b:keep']);
    expect(JSON.parse((await runCli(['backup', 'verify', file, '--json'])).stdout)).toMatchObject({ keys: 2 });
    const undo = await runCli(['restore', file, '--url', server.url, '--yes', '--json']);
    expect(JSON.parse(undo.stdout)).toMatchObject({ created: 2 });
    expect(await redis.get('b:1')).toBe('one');
    expect(await redis.hgetall('b:2')).toEqual({ f: 'v' });
  });

  it('--single-flight refuses a second run while the first holds the lock, and releases it after', async () => {
    await redis.set('sf:1', 'x');
    await redis.set('redis-ops:single-flight:nightly', 'other-host:123', 'PX', 60_000);
    const busy = await cli('ttl', 'cleanup', 'sf:*', '--set-ttl', '1h', '--single-flight', 'nightly', '--yes');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/another run of "nightly" is in progress .*held by other-host:123.*this run did nothing/);
    expect(await redis.ttl('sf:1')).toBe(-1);
    await redis.del('redis-ops:single-flight:nightly');
    const ok = await cli('ttl', 'cleanup', 'sf:*', '--set-ttl', '1h', '--single-flight', 'nightly', '--yes');
    expect(ok.code).toBe(0);
    expect(await redis.ttl('sf:1')).toBeGreaterThan(0);
    expect(await redis.exists('redis-ops:single-flight:nightly')).toBe(0);
  });

  it('cron mode: refuses without --yes, --dry-run lists and changes nothing, --prom-file, --log', async () => {
    await redis.set('c:1', 'x');
    await redis.set('c:2', 'y');
    const refused = await cli('ttl', 'cleanup', 'c:*', '--delete', '--no-ttl');
    expect(refused.code).toBe(2);
    const dry = await cli('ttl', 'cleanup', 'c:*', '--delete', '--no-ttl', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(ndjson(dry.stdout).map((x) => x.key).sort()).toEqual(['c:1', 'c:2']);
    expect(await redis.dbsize()).toBe(2);
    const prom = join(dir, 'ttl.prom');
    const log = join(dir, 'ttl.log');
    const r = await cli('ttl', 'cleanup', 'c:*', '--delete', '--no-ttl', '--yes', '--limit', '1', '--prom-file', prom, '--log', log);
    expect(r.code).toBe(3);
    expect(await redis.dbsize()).toBe(1);
    expect(readFileSync(prom, 'utf8')).toMatch(/redis_ops_ttl_cleanup_keys\{pattern="c:\*",outcome="changed"\} 1/);
    expect(ndjson(readFileSync(log, 'utf8'))).toEqual([expect.objectContaining({ command: 'ttl cleanup', action: 'unlink', db: 0 })]);
  });

  it('bad input: no action, conflicting actions, bad durations', async () => {
    expect((await cli('ttl', 'cleanup', 'x:*')).stderr).toContain('an action is needed');
    expect((await cli('ttl', 'cleanup', 'x:*', '--delete', '--set-ttl', '1h')).code).toBe(2);
    const bad = await cli('ttl', 'cleanup', 'x:*', '--set-ttl', 'forever', '--yes');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--set-ttl: "forever" is not a duration');
    expect((await cli('ttl', 'cleanup', 'x:*', '--delete', '--age-field', 'created_at')).stderr).toContain('--age-field and --older-than go together');
  });

  it('runs across a 3-master cluster', async () => {
    const cluster = await startCluster(3);
    const cc = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
    try {
      for (let i = 0; i < 300; i++) await cc.set(`t:${i}`, 'v');
      const r = await runCli(['ttl', 'cleanup', 't:*', '--set-ttl', '1h', '--url', cluster.url, '--yes', '--json']);
      expect(JSON.parse(r.stdout)).toMatchObject({ matched: 300, changed: 300 });
      const audit = JSON.parse((await runCli(['ttl', 'audit', '--url', cluster.url, '--json'])).stdout);
      expect(audit).toMatchObject({ scanned: 300, noTtl: { count: 0 } });
    } finally {
      cc.disconnect();
      await cluster.stop();
    }
  });
});

describe('ttl cleanup --backup and a crash', () => {
  it('a run killed midway has every changed key in its partial backup: restore from stdin brings them all back', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const { readdirSync } = await import('node:fs');
    await redis.flushall();
    const p = redis.pipeline();
    for (let i = 0; i < 20000; i++) p.set(`crash:${i}`, `value-${i}`);
    await p.exec();
    const file = join(dir, 'crash.jsonl');
    const child = spawn(process.execPath, [BIN, 'ttl', 'cleanup', 'crash:*', '--delete', '--no-ttl', '--backup', file, '--rate', '4000', '--yes', '--url', server.url, '--config', config], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
    await new Promise<void>((resolve) => { const t = setInterval(async () => { if ((await redis.dbsize()) < 15000) { clearInterval(t); resolve(); } }, 20); });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const deleted = 20000 - (await redis.dbsize());
    expect(deleted).toBeGreaterThan(0);
    expect(deleted).toBeLessThan(20000);
    const partial = readdirSync(dir).find((f) => f.startsWith('crash.jsonl.partial-'))!;
    const r = await runCli(['restore', '-', '--url', server.url, '--yes', '--json'], { input: readFileSync(join(dir, partial)) });
    expect(r.stderr).toMatch(/no trailer|truncated|not valid JSON/);
    expect(await redis.dbsize()).toBe(20000);
    expect(await redis.get('crash:7')).toBe('value-7');
  });
});
