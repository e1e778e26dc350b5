import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runInTty } from '../helpers/tty.js';

let server: LocalServer;
let redis: Redis;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
});

beforeEach(async () => {
  await redis.flushall();
  for (let i = 0; i < 12; i++) await redis.set(`temp:${i}`, 'v');
  await redis.set('keep', 'v');
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('on a terminal', () => {
  it('--askpass asks for the password without echoing it', async () => {
    const secured = await startServer({ args: ['--requirepass', 'Typed-Secret-9'] });
    try {
      const c = clientFor(secured, 0, 'Typed-Secret-9');
      await c.set('asked', '1');
      c.disconnect();
      const r = await runInTty(['keys', 'scan', '--url', secured.url, '--askpass'], { keys: ['Typed-Secret-9', '\r'], waitFor: /Password:/ });
      expect(r.code).toBe(0);
      expect(r.output).toContain('asked');
      expect(r.output).not.toContain('Typed-Secret-9');
    } finally {
      await secured.stop();
    }
  });

  it('keys delete shows the plan and a sample, and does nothing when told no', async () => {
    const r = await runInTty(['keys', 'delete', 'temp:*', '--url', server.url], { keys: ['n', '\r'] });
    expect(r.output).toContain(`About to UNLINK 12 key(s) matching temp:* on 127.0.0.1:${server.port} db 0.`);
    expect(r.output).toMatch(/For example:\s+temp:\d+/);
    expect(r.output).toContain('cancelled: nothing was changed');
    expect(r.code).toBe(2);
    expect(await redis.dbsize()).toBe(13);
  });

  it('queue retry-drain shows its plan and asks; no changes nothing, yes moves the due jobs', async () => {
    await redis.lpush('tts_queue', '{"request_id":"a"}');
    await redis.lpush('tts_retry_queue', '{"request_id":"r1","retry_count":1,"next_retry_at":1.5}', '{"request_id":"r2","retry_count":1,"next_retry_at":99999999999}');
    let r = await runInTty(['queue', 'retry-drain', 'tts_queue', '--url', server.url], { keys: ['n', '\r'] });
    expect(r.output).toContain(`About to move due jobs from tts_retry_queue back to tts_queue (2 job(s) in tts_retry_queue now) on 127.0.0.1:${server.port} db 0.`);
    expect(r.code).toBe(2);
    expect(await redis.llen('tts_retry_queue')).toBe(2);
    r = await runInTty(['queue', 'retry-drain', 'tts_queue', '--url', server.url], { keys: ['y', '\r'] });
    expect(r.code).toBe(0);
    expect(r.output).toContain('1 retried; left in place: 1 not due');
    expect(await redis.lrange('tts_retry_queue', 0, -1)).toEqual(['{"request_id":"r2","retry_count":1,"next_retry_at":99999999999}']);
  });

  it('keys delete proceeds when told yes', async () => {
    const r = await runInTty(['keys', 'delete', 'temp:*', '--url', server.url], { keys: ['y', '\r'] });
    expect(r.code).toBe(0);
    expect(r.output).toContain('unlinked 12 key(s) matching temp:*');
    expect(await redis.dbsize()).toBe(1);
  });

  it('colours tables on a TTY, and not with NO_COLOR or --no-color', async () => {
    const coloured = await runInTty(['keys', 'stats', '--url', server.url]);
    expect(coloured.code).toBe(0);
    expect(coloured.output).toMatch(/\x1b\[1m/);
    const plain = await runInTty(['keys', 'stats', '--url', server.url], { env: { NO_COLOR: '1' } });
    expect(plain.output).toContain('temp:*');
    expect(plain.output).not.toMatch(/\x1b\[1m/);
    const flag = await runInTty(['keys', 'stats', '--url', server.url, '--no-color']);
    expect(flag.output).not.toMatch(/\x1b\[1m/);
  });
});
