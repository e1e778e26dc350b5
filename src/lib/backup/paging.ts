import type { Redis } from 'ioredis';
import type { NodeHandle } from '../connect/target.js';
import { LENGTH_COMMAND } from '../keyTypes.js';
import { bytesJson, makeRecord, type Bytes, type KeyRecord, type KeyType, type StreamGroup } from './format.js';

/** Elements per record of a big key, and per page read from the server. */
export const CHUNK = 1000;
/** Bytes of a big string per record. */
const STRING_CHUNK = 1 << 20;

export interface Base {
  key: Buffer;
  db: number;
  type: KeyType;
  expireAtMs: number | null;
  capturedAtMs: number;
}

/**
 * Reads a big key in pages (no command holds the server for long) and writes
 * it as several records. Returns true when its length changed meanwhile.
 */
export async function pageBigKey(node: NodeHandle, key: Buffer, base: Base, length: number, record: (r: KeyRecord) => Promise<void>): Promise<boolean> {
  const c = node.client;
  let part = 0;
  let open = false;
  const emit = async (value: unknown, more: boolean) => {
    open = more;
    await record(makeRecord(key, base.db, base.type, base.expireAtMs, base.capturedAtMs, value, part++, more));
  };
  switch (base.type) {
    case 'string': {
      for (let at = 0; at < length || at === 0; at += STRING_CHUNK) {
        const chunk = (await c.callBuffer('GETRANGE', key, at, Math.min(length, at + STRING_CHUNK) - 1)) as Buffer;
        await emit(bytesJson(chunk), at + STRING_CHUNK < length);
      }
      break;
    }
    case 'list': {
      for (let at = 0; at < length; at += CHUNK) {
        const items = (await c.callBuffer('LRANGE', key, at, at + CHUNK - 1)) as Buffer[];
        await emit(items.map(bytesJson), at + CHUNK < length);
      }
      break;
    }
    case 'hash':
    case 'set':
    case 'zset': {
      const cmd = base.type === 'hash' ? 'HSCAN' : base.type === 'set' ? 'SSCAN' : 'ZSCAN';
      let cursor = '0';
      let pending: unknown[] = [];
      do {
        const [next, items] = (await c.callBuffer(cmd, key, cursor, 'COUNT', CHUNK)) as [Buffer, Buffer[]];
        cursor = next.toString();
        if (base.type === 'set') pending.push(...items.map(bytesJson));
        else for (let i = 0; i + 1 < items.length; i += 2) pending.push([bytesJson(items[i]!), base.type === 'zset' ? items[i + 1]!.toString() : bytesJson(items[i + 1]!)]);
        while (pending.length >= CHUNK || (cursor === '0' && pending.length)) {
          await emit(pending.slice(0, CHUNK), cursor !== '0' || pending.length > CHUNK);
          pending = pending.slice(CHUNK);
        }
      } while (cursor !== '0');
      // Nothing read at all (emptied meanwhile), or the last page ended a part that promised more.
      if (part === 0 || open) await emit([], false);
      break;
    }
    case 'stream': {
      await pageStream(c, key, emit);
      break;
    }
  }
  const after = Number(await c.call(LENGTH_COMMAND[base.type], key));
  return after !== length;
}

/**
 * Streams are rebuilt as the server's own AOF rewrite does (aof.c,
 * rewriteStreamObject): entries with their ids, then the last id, entries
 * added and max deleted id, then groups with last-delivered id and entries
 * read, pending entries with consumer, delivery time and count, and consumers.
 * The metadata comes from XINFO STREAM FULL; entries and pending entries are
 * read in pages (XRANGE, XPENDING), as FULL without a COUNT would return a big
 * stream whole in one reply. Needs Redis 6.2+ (FULL, XPENDING IDLE).
 */
async function pageStream(c: Redis, key: Buffer, emit: (value: unknown, more: boolean) => Promise<void>): Promise<void> {
  let start = '-';
  let entries: [string, Bytes[]][] = [];
  for (;;) {
    const page = (await c.callBuffer('XRANGE', key, start, '+', 'COUNT', CHUNK)) as [Buffer, Buffer[]][];
    for (const [id, fields] of page) entries.push([id.toString(), fields.map(bytesJson)]);
    if (page.length < CHUNK) break;
    start = `(${page[page.length - 1]![0].toString()}`;
    if (entries.length >= CHUNK) {
      await emit({ entries }, true);
      entries = [];
    }
  }
  // All the metadata (stream, groups, consumers) in one atomic read. COUNT 1
  // keeps the reply small: entries are paged above, pending entries below.
  const info = pairs((await c.callBuffer('XINFO', 'STREAM', key, 'FULL', 'COUNT', 1)) as unknown[]);
  const groups: StreamGroup[] = [];
  for (const g of (info.groups ?? []) as unknown[][]) {
    const gi = pairs(g);
    const name = gi.name as Buffer;
    const consumers = ((gi.consumers ?? []) as unknown[][]).map((x) => bytesJson(pairs(x).name as Buffer));
    const pending: StreamGroup['pending'] = [];
    let from = '-';
    for (;;) {
      // TIME and XPENDING in one transaction: the idle times are measured at the instant TIME gives.
      const tx = (await c.multi().call('TIME').callBuffer('XPENDING', key, name, 'IDLE', 0, from, '+', CHUNK).exec()) ?? [];
      const [sec, usec] = (tx[0]?.[1] ?? ['0', '0']) as [string, string];
      const serverNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
      const page = (tx[1]?.[1] ?? []) as [Buffer, Buffer, number, number][];
      for (const [id, consumer, idle, count] of page) {
        pending.push({ id: id.toString(), consumer: bytesJson(consumer), deliveryTimeMs: serverNow - Number(idle), deliveryCount: Number(count) });
      }
      if (page.length < CHUNK) break;
      from = `(${page[page.length - 1]![0].toString()}`;
    }
    groups.push({
      name: bytesJson(name),
      lastDeliveredId: String(gi['last-delivered-id']),
      entriesRead: gi['entries-read'] === null || gi['entries-read'] === undefined ? null : Number(gi['entries-read']),
      consumers,
      pending,
    });
  }
  await emit({
    entries,
    lastId: String(info['last-generated-id']),
    entriesAdded: info['entries-added'] !== undefined ? Number(info['entries-added']) : null,
    maxDeletedId: info['max-deleted-entry-id'] !== undefined ? String(info['max-deleted-entry-id']) : null,
    groups,
  }, false);
}

function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
