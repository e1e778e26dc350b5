import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openTarget, type Target } from '../../src/lib/connect/target.js';
import { listLocks, reapLocks } from '../../src/lib/locks/locks.js';
import { Rails } from '../../src/lib/rails.js';
import { railsFrom } from '../../src/commands/railsFlags.js';
import { clientFor, makeIdle, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
let target: Target;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  target = await openTarget({ host: '127.0.0.1', port: server.port, db: 0, tls: null, mode: 'auto', sentinels: [], timeoutMs: 5000 });
});
afterAll(async () => {
  await target.close();
  redis.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await redis.flushall();
  await redis.set('lock:job:crashed', 'token-1');
  await redis.set('lock:job:held', 'token-2', 'EX', 30);
  await redis.set('orders:lock', 'token-3');
  await redis.set('bull:emails:42:lock', 'worker-token');
  await redis.set('unrelated', 'x');
  // Idle for an hour, deterministically: RESTORE sets a key's idle time.
  for (const key of ['lock:job:crashed', 'orders:lock', 'bull:emails:42:lock', 'unrelated']) await makeIdle(redis, key, 3600);
});

const yes = () => new Rails(railsFrom('locks reap', { yes: true }));

describe('locks list', () => {
  it('finds locks by the common patterns and judges them', async () => {
    const r = await runCli(['locks', 'list', '--url', server.url, '--stale-after', '1m', '--json']);
    expect(r.code).toBe(0);
    const { patterns, locks } = JSON.parse(r.stdout);
    expect(patterns).toEqual(['lock:*', '*:lock', 'locks:*', '*:lock:*']);
    const by = Object.fromEntries(locks.map((l: { key: string }) => [l.key, l]));
    expect(Object.keys(by).sort()).toEqual(['bull:emails:42:lock', 'lock:job:crashed', 'lock:job:held', 'orders:lock']);
    expect(by['lock:job:crashed']).toMatchObject({ ttlMs: null, stale: true, system: null, type: 'string' });
    expect(by['lock:job:crashed'].idleSec).toBeGreaterThanOrEqual(1);
    expect(by['lock:job:held']).toMatchObject({ stale: false, reason: 'has an expiry: will free itself' });
    expect(by['bull:emails:42:lock']).toMatchObject({ stale: false, system: 'bullmq' });
    // Before 7.2, tokens are not read unless asked: reading refreshes the idle time staleness is judged by.
    expect(by['lock:job:crashed'].value).toBeNull();
    const again = JSON.parse((await runCli(['locks', 'list', '--url', server.url, '--stale-after', '1m', '--json'])).stdout);
    expect(again.locks.find((l: { key: string }) => l.key === 'lock:job:crashed').stale).toBe(true);
    const withValues = JSON.parse((await runCli(['locks', 'list', 'lock:*', '--url', server.url, '--values', '--json'])).stdout);
    expect(withValues.locks.find((l: { key: string }) => l.key === 'lock:job:crashed').value).toEqual({ value: 'token-1' });
  });

  it('--max-ttl flags locks with a longer TTL', async () => {
    const { locks } = JSON.parse((await runCli(['locks', 'list', 'lock:*', '--url', server.url, '--max-ttl', '10s', '--stale-after', '1h', '--json'])).stdout);
    expect(locks.find((l: { key: string }) => l.key === 'lock:job:held')).toMatchObject({ stale: true });
  });
});

describe('locks reap', () => {
  it('reaps stale locks only, never a queue system\'s, through the rails', async () => {
    const refused = await runCli(['locks', 'reap', '--url', server.url, '--stale-after', '1m']);
    expect(refused.code).toBe(2);
    const r = await runCli(['locks', 'reap', '--url', server.url, '--stale-after', '1m', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ considered: 2, reaped: 2 });
    expect((await redis.keys('*')).sort()).toEqual(['bull:emails:42:lock', 'lock:job:held', 'unrelated']);
  });

  it('never deletes a lock re-acquired with a new token (token read at plan time)', async () => {
    const plan = (await listLocks(target, { patterns: ['lock:*'], dbs: [0], staleAfterMs: 1000, readValues: true })).filter((l) => l.stale);
    expect(plan.map((l) => l.key)).toEqual(['lock:job:crashed']);
    // Released and re-acquired by a new holder between the plan and the reap.
    await redis.del('lock:job:crashed');
    await redis.set('lock:job:crashed', 'token-NEW');
    const res = await reapLocks(target, plan, yes(), { staleAfterMs: 0, force: false });
    expect(res).toMatchObject({ reaped: 0, skipped: { value: 1 } });
    expect(await redis.get('lock:job:crashed')).toBe('token-NEW');
  });

  it('never deletes a lock re-acquired meanwhile (token not read: idle time decides)', async () => {
    const plan = (await listLocks(target, { patterns: ['lock:*'], dbs: [0], staleAfterMs: 1000, readValues: false })).filter((l) => l.stale);
    await redis.del('lock:job:crashed');
    await redis.set('lock:job:crashed', 'token-NEW');
    const res = await reapLocks(target, plan, yes(), { staleAfterMs: 1000, force: false });
    expect(res).toMatchObject({ reaped: 0, skipped: { idle: 1 } });
    expect(await redis.get('lock:job:crashed')).toBe('token-NEW');
  });

  it('a lock that got an expiry meanwhile is left alone', async () => {
    const plan = (await listLocks(target, { patterns: ['orders:lock'], dbs: [0], staleAfterMs: 1000, readValues: false })).filter((l) => l.stale);
    await redis.expire('orders:lock', 30);
    const res = await reapLocks(target, plan, yes(), { staleAfterMs: 1000, force: false });
    expect(res).toMatchObject({ reaped: 0, skipped: { ttl: 1 } });
  });

  it('--key KEY --force reaps one named lock, logging its token', async () => {
    const notStale = await runCli(['locks', 'reap', '--key', 'lock:job:held', '--url', server.url, '--yes']);
    expect(notStale.stderr).toContain('is not stale');
    expect(await redis.exists('lock:job:held')).toBe(1);
    const forced = await runCli(['locks', 'reap', '--key', 'lock:job:crashed', '--force', '--url', server.url, '--yes', '--json']);
    expect(JSON.parse(forced.stdout)).toMatchObject({ reaped: 1, locks: [{ key: 'lock:job:crashed', value: { value: 'token-1' }, result: 'reaped' }] });
    const bull = await runCli(['locks', 'reap', '--key', 'bull:emails:42:lock', '--force', '--url', server.url, '--yes']);
    expect(bull.code).toBe(2);
    expect(await redis.exists('bull:emails:42:lock')).toBe(1);
  });

  it('--dry-run lists what would be reaped and deletes nothing', async () => {
    const r = await runCli(['locks', 'reap', '--url', server.url, '--stale-after', '1m', '--dry-run', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, considered: 2, reaped: 0 });
    expect(await redis.dbsize()).toBe(5);
  });
});
