import type { Readable } from 'node:stream';
import { bytesJson, FORMAT, FORMAT_VERSION, makeRecord, recordLine, type Header, type KeyType } from '../backup/format.js';
import type { RecordSink } from '../backup/sink.js';
import { globToRegExp } from '../glob.js';
import { withKey, type KeyJson } from '../keyname.js';
import { KeyStatsAccumulator, type KeyStats } from '../keys/stats.js';
import type { PatternOptions } from '../keys/pattern.js';
import { RdbParser, type ParseOptions, type RdbKey, type RdbSummary, type ValuePiece } from './parser.js';

/** How the reader buffers (tests shrink it to read every key in pieces). */
export type Tuning = Pick<ParseOptions, 'maxBuffered'>;
import { ByteSource } from './source.js';

/** Which keys of the file a command looks at. */
export interface RdbFilter {
  match?: string;
  type?: string;
  noTtl?: boolean;
  db?: number;
}

function matcher(f: RdbFilter): (k: RdbKey) => boolean {
  const re = f.match ? globToRegExp(f.match) : null;
  return (k) => (f.db === undefined || k.db === f.db)
    && (!f.type || k.type === f.type)
    && (!f.noTtl || k.expireAtMs === null)
    && (!re || re.test(k.key.toString('latin1')));
}

/** When the file was written (its ctime aux field), for TTLs as they were then; else now. */
function savedAtMs(s: RdbSummary, fallback: number): number {
  const ctime = Number(s.aux.ctime);
  return Number.isFinite(ctime) && ctime > 0 ? ctime * 1000 : fallback;
}

export type ScanLine = KeyJson & { db: number; type: string; encoding: string; ttlMs: number | null; expireAtMs: number | null; bytes: number; length: number };

/** Every key of the file (that the filter admits), one line each. */
export async function scanRdb(path: string, stdin: Readable, filter: RdbFilter, onKey: (line: ScanLine) => Promise<void> | void, tuning: Tuning = {}): Promise<RdbSummary & { matched: number }> {
  const src = await ByteSource.open(path, stdin);
  try {
    const p = new RdbParser(src, tuning);
    const admit = matcher(filter);
    let matched = 0;
    let at: number | null = null;
    for await (const batch of p.batchesOf()) for (const k of batch) {
      at ??= savedAtMs(p.summary(), Date.now());
      if (!admit(k)) continue;
      matched++;
      // Awaited only when the callback is async: an await per key costs more than the key.
      const done = onKey(withKey(k.key, { db: k.db, type: k.type, encoding: k.encoding, ttlMs: k.expireAtMs === null ? null : k.expireAtMs - at, expireAtMs: k.expireAtMs, bytes: k.bytes, length: k.length }));
      if (done) await done;
    }
    return { ...p.summary(), matched };
  } finally {
    src.close();
  }
}

export interface RdbStatsOptions extends PatternOptions, RdbFilter {
  top: number;
  groups: number;
}

/** The `keys stats` report, from the file: the same accumulator, so the same schema. */
export async function rdbStats(path: string, stdin: Readable, opts: RdbStatsOptions): Promise<{ stats: KeyStats; rdb: RdbSummary }> {
  const started = Date.now();
  const src = await ByteSource.open(path, stdin);
  const node = src.name;
  try {
    const p = new RdbParser(src);
    const acc = new KeyStatsAccumulator(opts, true);
    const admit = matcher(opts);
    const perDb = new Map<number, number>();
    let at: number | null = null;
    for await (const batch of p.batchesOf()) for (const k of batch) {
      at ??= savedAtMs(p.summary(), Date.now());
      perDb.set(k.db, (perDb.get(k.db) ?? 0) + 1);
      if (!admit(k)) continue;
      acc.add({ key: k.key, type: k.type === 'module' ? k.encoding : k.type, bytes: k.bytes, ttlMs: k.expireAtMs === null ? null : k.expireAtMs - at, length: k.length }, node, k.db);
    }
    const dbs = [...perDb.keys()].sort((a, b) => a - b);
    for (const db of dbs) acc.addDb(db, [{ node, keys: perDb.get(db)! }]);
    const stats = acc.result({ complete: true, vanished: 0, bytesMeasured: true, durationMs: Date.now() - started, dbList: dbs.length ? dbs : [0], sampled: false });
    return { stats, rdb: p.summary() };
  } finally {
    src.close();
  }
}

export interface ExportSummary {
  keys: number;
  records: number;
  /** Keys left out: module values (no module here to read them), keys already expired. */
  skipped: { modules: number; expired: number; fieldExpiriesDropped: number };
  rdb: RdbSummary;
}

/** Lines buffered before they go to the sink. */
const FLUSH_BYTES = 1 << 18;

/**
 * The file as a redis-ops backup: exact bytes, absolute expiries, streams
 * with their consumer groups; a big key in several records (as backup
 * writes them). Keys whose expiry has passed are left out (a server loading
 * the file would drop them too).
 */
export async function exportRdb(path: string, stdin: Readable, filter: RdbFilter, sink: RecordSink, now = Date.now(), tuning: Tuning = {}): Promise<ExportSummary> {
  const src = await ByteSource.open(path, stdin);
  const summary: Omit<ExportSummary, 'rdb'> = { keys: 0, records: 0, skipped: { modules: 0, expired: 0, fieldExpiriesDropped: 0 } };
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (!pending.length) return;
    const buf = Buffer.from(pending.join(''), 'utf8');
    const n = pending.length;
    pending = [];
    pendingBytes = 0;
    await sink.lines(buf, n);
  };
  const admit = matcher(filter);
  let savedAt: number | null = null;
  const parts = new Map<RdbKey, number>();
  const p = new RdbParser(src, {
    ...tuning,
    wantValue: (k) => admit(k) && k.type !== 'module' && !(k.expireAtMs !== null && k.expireAtMs <= now),
    onValue: async (k, piece, more) => {
      // The aux fields (ctime) come before the first key: the capture time is known by now.
      savedAt ??= savedAtMs(p.summary(), now);
      const part = parts.get(k) ?? 0;
      parts.set(k, part + 1);
      const whole = part === 0 && !more;
      const value = pieceValue(piece);
      if (piece.kind === 'pairs' && piece.fieldExpiry?.some((e) => e !== null)) summary.skipped.fieldExpiriesDropped += piece.fieldExpiry.filter((e) => e !== null).length;
      const line = `${recordLine(makeRecord(k.key, k.db, k.type as KeyType, k.expireAtMs, savedAt, value, whole ? undefined : part, whole ? undefined : more))}\n`;
      pending.push(line);
      pendingBytes += line.length;
      summary.records++;
      if (!more) parts.delete(k);
      if (pendingBytes >= FLUSH_BYTES) await flush();
    },
  });
  try {
    for await (const batch of p.batchesOf()) for (const k of batch) {
      if (!admit(k)) continue;
      if (k.type === 'module') { summary.skipped.modules++; continue; }
      if (k.expireAtMs !== null && k.expireAtMs <= now) { summary.skipped.expired++; continue; }
      summary.keys++;
    }
    await flush();
    return { ...summary, rdb: p.summary() };
  } finally {
    src.close();
  }
}

/** The header an export starts with: the file as the source. It is written before the first record. */
export function exportHeader(path: string, dbs: number[], filter: RdbFilter): Header {
  return {
    format: FORMAT, version: FORMAT_VERSION, createdAt: new Date().toISOString(),
    source: { address: path === '-' ? 'stdin' : path, version: null, mode: 'rdb' },
    dbs, filters: { match: filter.match ? [filter.match] : [], type: filter.type ? [filter.type] : [] },
  };
}

function scoreText(n: number): string {
  return n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
}

function pieceValue(piece: ValuePiece): unknown {
  switch (piece.kind) {
    case 'string': return bytesJson(piece.chunk);
    case 'elements': return piece.items.map(bytesJson);
    case 'pairs': return piece.items.map(([f, v]) => [bytesJson(f), bytesJson(v)]);
    case 'zset': return piece.items.map(([m, s]) => [bytesJson(m), scoreText(s)]);
    case 'stream': {
      const s = piece.value;
      return {
        entries: s.entries.map(([id, kv]) => [id, kv.map(bytesJson)]),
        lastId: s.lastId, entriesAdded: s.entriesAdded, maxDeletedId: s.maxDeletedId,
        groups: s.groups.map((g) => ({
          name: bytesJson(g.name), lastDeliveredId: g.lastDeliveredId, entriesRead: g.entriesRead,
          consumers: g.consumers.map(bytesJson),
          pending: g.pending.map((x) => ({ id: x.id, consumer: bytesJson(x.consumer), deliveryTimeMs: x.deliveryTimeMs, deliveryCount: x.deliveryCount })),
        })),
      };
    }
  }
}
