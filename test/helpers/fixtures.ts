import type { Redis } from 'ioredis';

/** A binary key name (not UTF-8, with a NUL). */
export const BINARY_KEY = Buffer.from([0xff, 0x00, 0x62, 0x69, 0x6e]);

/**
 * One key of every type, with what makes each hard to carry exactly: an
 * expiry, repeated list elements, a fractional score, a binary key and value,
 * a stream with a consumer group and a pending entry. Nine keys.
 */
export async function fillEveryType(c: Redis): Promise<void> {
  await c.set('s:1', 'hello');
  await c.set('s:ttl', 'x', 'EX', 3600);
  await c.rpush('l:1', 'a', 'b', 'a');
  await c.sadd('set:1', 'x', 'y', 'z');
  await c.zadd('z:1', 1, 'one', 2.5, 'two');
  await c.hset('h:1', 'f1', 'v1', 'f2', 'v2');
  await c.set(BINARY_KEY, Buffer.from([0x00, 0xfe]));
  await c.xadd('st:1', '1-1', 'k', 'v');
  await c.xadd('st:1', '2-1', 'k', 'w');
  await c.xgroup('CREATE', 'st:1', 'g', '0');
  await c.xreadgroup('GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 'st:1', '>');
}
