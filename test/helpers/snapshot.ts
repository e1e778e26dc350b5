import type { Redis } from 'ioredis';

/**
 * A key's content in a canonical, comparable form: exact bytes (hex), order
 * where the type has one, sorted where it has none; streams with entries,
 * ids, counters, groups and pending entries (delivery times to the second).
 */
export async function snapshotKey(c: Redis, key: Buffer): Promise<unknown> {
  const type = String(await c.type(key));
  const hex = (b: Buffer) => b.toString('hex');
  const pttl = Number(await c.pttl(key));
  let value: unknown;
  switch (type) {
    case 'string':
      value = hex((await c.getBuffer(key))!);
      break;
    case 'list':
      value = ((await c.lrangeBuffer(key, 0, -1)) as Buffer[]).map(hex);
      break;
    case 'set':
      value = ((await c.smembersBuffer(key)) as Buffer[]).map(hex).sort();
      break;
    case 'hash': {
      const flat = (await c.callBuffer('HGETALL', key)) as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${hex(flat[i])}=${hex(flat[i + 1])}`);
      value = pairs.sort();
      break;
    }
    case 'zset':
      value = ((await c.callBuffer('ZRANGE', key, 0, -1, 'WITHSCORES')) as Buffer[]).map((b, i) => (i % 2 ? b.toString() : hex(b)));
      break;
    case 'stream': {
      const full = (await c.callBuffer('XINFO', 'STREAM', key, 'FULL', 'COUNT', 0)) as unknown[];
      value = normaliseStream(full);
      break;
    }
    default:
      value = null;
  }
  return { type, hasTtl: pttl >= 0, value };
}

function normaliseStream(v: unknown, parentKey = ''): unknown {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  // Delivery times (unix ms) are compared separately, within a tolerance.
  if (typeof v === 'number' && v > 1e12) return 'ms-timestamp';
  if (!Array.isArray(v)) return v;
  const out: unknown[] = [];
  for (let i = 0; i < v.length; i++) {
    const k = Buffer.isBuffer(v[i]) ? v[i].toString() : null;
    if (k === 'seen-time' || k === 'active-time') {
      i++; // not restorable exactly (documented)
      continue;
    }
    out.push(normaliseStream(v[i], parentKey));
  }
  return out;
}

export async function snapshotAll(c: Redis): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  let cursor = '0';
  do {
    const [next, keys] = await c.scanBuffer(cursor, 'COUNT', 1000);
    cursor = next.toString();
    for (const k of keys) out.set(k.toString('hex'), await snapshotKey(c, k));
  } while (cursor !== '0');
  return out;
}
