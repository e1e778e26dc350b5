import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startSentinel, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let master: LocalServer;
let sentinel: LocalServer;
let redis: Redis;

beforeAll(async () => {
  master = await startServer();
  sentinel = await startSentinel(master, 'mymaster');
  redis = clientFor(master);
  await redis.set('via:sentinel', 'yes');
});

afterAll(async () => {
  redis.disconnect();
  await sentinel.stop();
  await master.stop();
});

describe('Sentinel', () => {
  it('finds the master through --sentinel and --master-name', async () => {
    const r = await runCli(['keys', 'scan', '--sentinel', `127.0.0.1:${sentinel.port}`, '--master-name', 'mymaster', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ key: 'via:sentinel', type: 'string', ttlMs: null, node: `127.0.0.1:${master.port}`, db: 0 });
  });

  it('an unknown master name is a clear error', async () => {
    const r = await runCli(['keys', 'scan', '--sentinel', `127.0.0.1:${sentinel.port}`, '--master-name', 'other', '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the Sentinels of other@127.0.0.1:${sentinel.port} know no master by that name`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('pointing plain at a Sentinel explains how to use it', async () => {
    const r = await runCli(['keys', 'scan', '--url', sentinel.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`is a Sentinel, not a data node: use --sentinel 127.0.0.1:${sentinel.port} --master-name NAME`);
  });
});
