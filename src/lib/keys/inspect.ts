import type { Target } from '../connect/target.js';
import { keyJson, type KeyJson } from '../keyname.js';
import { isKeyType, LENGTH_COMMAND } from '../keyTypes.js';

export interface InspectOptions {
  /** Elements to preview. */
  items: number;
  /** Bytes shown of a string value or of each element. */
  maxBytes: number;
}

export type ValueJson = { value: string } | { value64: string };

export type PreviewItem =
  | ValueJson
  | (ValueJson & { index: number })
  | ({ field: string } & ValueJson) | ({ field64: string } & ValueJson)
  | (ValueJson & { score: string })
  | { id: string; fields: (({ name: string } | { name64: string }) & ValueJson)[] };

/** A stream's consumer group, as an SRE asks about it during an incident: who reads, how far behind. */
export interface StreamGroupReport {
  name?: string;
  name64?: string;
  lastDeliveredId: string;
  /** Entries delivered and not yet acknowledged. */
  pending: number;
  /** Entries not yet delivered to the group (Redis 7+; null when the server cannot tell). */
  lag: number | null;
  entriesRead: number | null;
  consumers: { name?: string; name64?: string; pending: number; idleMs: number }[];
}

export interface KeyReport {
  key?: string;
  key64?: string;
  type: string;
  encoding: string | null;
  ttlMs: number | null;
  idleSec: number | null;
  bytes: number | null;
  length: number | null;
  preview: {
    items: PreviewItem[];
    /** true when the value or the element list was cut. */
    truncated: boolean;
  };
  /** Streams: every consumer group (at most --items consumers each); absent for other types. */
  groups?: StreamGroupReport[];
}

/**
 * Everything about one key. OBJECT IDLETIME is read first: reading the
 * value (or its length) resets the idle time being reported.
 */
export async function inspectKey(target: Target, key: Buffer, opts: InspectOptions): Promise<KeyReport | null> {
  const c = target.client;
  const meta = c.pipeline();
  meta.call('OBJECT', 'IDLETIME', key);
  meta.type(key);
  meta.pttl(key);
  meta.call('OBJECT', 'ENCODING', key);
  meta.call('MEMORY', 'USAGE', key);
  const r = (await meta.exec()) ?? [];
  const type = String(r[1]?.[1] ?? 'none');
  if (r[1]?.[0]) throw r[1][0];
  if (type === 'none') return null;
  const pttl = Number(r[2]?.[1]);
  const report: KeyReport = {
    ...keyJson(key),
    type,
    encoding: r[3]?.[0] ? null : String(r[3]?.[1]),
    ttlMs: pttl >= 0 ? pttl : null,
    // Under an LFU policy OBJECT IDLETIME is an error: unknown, not zero.
    idleSec: r[0]?.[0] ? null : Number(r[0]?.[1]),
    bytes: r[4]?.[0] ? null : Number(r[4]?.[1]),
    length: null,
    preview: { items: [], truncated: false },
  };
  const lengthCmd = isKeyType(type) ? LENGTH_COMMAND[type] : undefined;
  if (lengthCmd) report.length = Number(await c.call(lengthCmd, key));
  report.preview = await previewValue(target, key, type, report.length ?? 0, opts);
  if (type === 'stream') report.groups = await streamGroups(target, key, opts.items);
  return report;
}

async function streamGroups(target: Target, key: Buffer, maxConsumers: number): Promise<StreamGroupReport[]> {
  const c = target.client;
  const groups = ((await c.callBuffer('XINFO', 'GROUPS', key)) as unknown[][]).map(pairs);
  return Promise.all(groups.map(async (g) => {
    const name = g.name as Buffer;
    const consumers = ((await c.callBuffer('XINFO', 'CONSUMERS', key, name)) as unknown[][]).slice(0, maxConsumers).map(pairs);
    const nameJson = (b: Buffer) => { const k = keyJson(b); return 'key' in k ? { name: k.key } : { name64: k.key64 }; };
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      ...nameJson(name),
      lastDeliveredId: String(g['last-delivered-id']),
      pending: Number(g.pending ?? 0),
      lag: num(g.lag),
      entriesRead: num(g['entries-read']),
      consumers: consumers.map((x) => ({ ...nameJson(x.name as Buffer), pending: Number(x.pending ?? 0), idleMs: Number(x.idle ?? 0) })),
    };
  }));
}

function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

async function previewValue(target: Target, key: Buffer, type: string, length: number, opts: InspectOptions): Promise<KeyReport['preview']> {
  const c = target.client;
  const n = opts.items;
  const cut = (b: Buffer) => valueJson(b.length > opts.maxBytes ? b.subarray(0, opts.maxBytes) : b);
  let cutAny = false;
  const cutMark = (b: Buffer) => {
    if (b.length > opts.maxBytes) cutAny = true;
    return cut(b);
  };
  let items: PreviewItem[] = [];
  switch (type) {
    case 'string': {
      const v = (await c.callBuffer('GETRANGE', key, 0, opts.maxBytes - 1)) as Buffer;
      items = [valueJson(v)];
      cutAny = length > opts.maxBytes;
      break;
    }
    case 'list': {
      const vs = (await c.callBuffer('LRANGE', key, 0, n - 1)) as Buffer[];
      items = vs.map((v, index) => ({ index, ...cutMark(v) }));
      break;
    }
    case 'hash': {
      const [, flat] = (await c.callBuffer('HSCAN', key, 0, 'COUNT', n)) as [Buffer, Buffer[]];
      for (let i = 0; i + 1 < flat.length && items.length < n; i += 2) {
        const f = keyJson(flat[i]!);
        items.push({ ...('key' in f ? { field: f.key } : { field64: f.key64 }), ...cutMark(flat[i + 1]!) } as PreviewItem);
      }
      break;
    }
    case 'set': {
      const [, members] = (await c.callBuffer('SSCAN', key, 0, 'COUNT', n)) as [Buffer, Buffer[]];
      items = members.slice(0, n).map(cutMark);
      break;
    }
    case 'zset': {
      const flat = (await c.callBuffer('ZRANGE', key, 0, n - 1, 'WITHSCORES')) as Buffer[];
      for (let i = 0; i + 1 < flat.length; i += 2) items.push({ ...cutMark(flat[i]!), score: flat[i + 1]!.toString() });
      break;
    }
    case 'stream': {
      const entries = (await c.callBuffer('XRANGE', key, '-', '+', 'COUNT', n)) as [Buffer, Buffer[]][];
      items = entries.map(([id, fv]) => {
        const fields: (({ name: string } | { name64: string }) & ValueJson)[] = [];
        for (let i = 0; i + 1 < fv.length; i += 2) {
          const f = keyJson(fv[i]!);
          fields.push({ ...('key' in f ? { name: f.key } : { name64: f.key64 }), ...cutMark(fv[i + 1]!) });
        }
        return { id: id.toString(), fields };
      });
      break;
    }
    default:
      // Module types (RedisJSON, …): described, not read.
      return { items: [], truncated: length > 0 };
  }
  return { items, truncated: cutAny || (type !== 'string' && length > items.length) };
}

export function valueJson(b: Buffer): ValueJson {
  const k = keyJson(b);
  return 'key' in k ? { value: k.key } : { value64: k.key64 };
}

export type { KeyJson };
