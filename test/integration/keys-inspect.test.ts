import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  await redis.set('greeting', 'hello world', 'PX', 600_000);
  await redis.rpush('jobs', 'a', 'b', 'c', 'd');
  await redis.hset(Buffer.from('bin:hash'), Buffer.from([0xc3, 0x28]), Buffer.from([0xff]));
  await redis.zadd('scores', '1.5', 'x', '-inf', 'y');
  await redis.xadd('events', '1-1', 'f', 'v');
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const inspect = async (...args: string[]) => runCli(['keys', 'inspect', '--url', server.url, ...args]);

describe('keys inspect', () => {
  it('reports a string with TTL, encoding, memory and preview', async () => {
    const r = await inspect('greeting', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ key: 'greeting', exists: true, type: 'string', encoding: 'embstr', length: 11, preview: { items: [{ value: 'hello world' }], truncated: false } });
    expect(j.ttlMs).toBeGreaterThan(590_000);
    expect(j.bytes).toBeGreaterThan(0);
    expect(j.idleSec).toBeGreaterThanOrEqual(0);
  });

  it('bounds the preview', async () => {
    const j = JSON.parse((await inspect('jobs', '--json', '--items', '2')).stdout);
    expect(j.preview).toEqual({ items: [{ index: 0, value: 'a' }, { index: 1, value: 'b' }], truncated: true });
    expect(j.length).toBe(4);
  });

  it('shows binary fields and values as base64, and exact zset scores', async () => {
    const h = JSON.parse((await inspect(Buffer.from('bin:hash').toString('base64'), '--base64', '--json')).stdout);
    expect(h.preview.items).toEqual([{ field64: Buffer.from([0xc3, 0x28]).toString('base64'), value64: Buffer.from([0xff]).toString('base64') }]);
    const z = JSON.parse((await inspect('scores', '--json')).stdout);
    expect(z.preview.items).toEqual([{ value: 'y', score: '-inf' }, { value: 'x', score: '1.5' }]);
    const s = JSON.parse((await inspect('events', '--json')).stdout);
    // The documented shape (issue 15): a field's name and value side by side, as for a hash.
    expect(s.preview.items).toEqual([{ id: '1-1', fields: [{ name: 'f', value: 'v' }] }]);
  });

  it('exits 1 with a clear message for a missing key', async () => {
    const r = await inspect('nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no such key: nope');
  });

  it('rejects invalid base64 with exit 2', async () => {
    const r = await inspect('%%%', '--base64');
    expect(r.code).toBe(2);
  });
});
