import { keepIdleTimes, type Target } from '../connect/target.js';
import { keyJson, type KeyJson } from '../keyname.js';
import { forEachDb } from '../connect/dbs.js';
import { countKeys, walkKeys, type WalkOptions } from '../scan/walk.js';
import { type PatternOptions } from './pattern.js';
import { PatternGroups } from './patternGroups.js';
import { TopN } from './topN.js';
import { Pace } from '../pace.js';
import { emptyTtlBuckets, ttlBucket, type TtlBuckets } from './ttlBuckets.js';

export interface KeyStatsOptions extends PatternOptions {
  /** Logical databases to walk (default: the connection's). */
  dbs?: number[];
  match?: string;
  type?: string;
  count: number;
  top: number;
  /** Groups listed before the rest fold into "[other]". */
  groups: number;
  /** Walk only this many keys and extrapolate. */
  sample?: number;
  /** At most this many keys per second (the exporter's background walk). */
  rate?: number;
  /**
   * Measure element counts. Reading a length refreshes the key's idle time on
   * servers without CLIENT NO-TOUCH (before 7.2): 'auto' measures only where
   * NO-TOUCH keeps idle times intact; true measures anyway.
   */
  lengths: boolean | 'auto';
  signal?: AbortSignal;
  onProgress?: (p: WalkProgress) => void;
  onFallback?: WalkOptions['onFallback'];
  /** Said once when MEMORY USAGE is refused (an ACL user without it): the report goes on without bytes. */
  onNoBytes?: (node: string) => void;
}

export interface WalkProgress {
  scanned: number;
  total: number;
  elapsedMs: number;
}

export interface GroupStats {
  db: number;
  pattern: string;
  count: number;
  bytes: number;
  noTtlShare: number;
  ttl: TtlBuckets;
  types: Record<string, number>;
  biggest: (KeyJson & { bytes: number }) | null;
}

export interface TopKey {
  key?: string;
  key64?: string;
  node: string;
  type: string;
  bytes: number | null;
  length: number | null;
  ttlMs: number | null;
  /** true when bytes were measured exactly (MEMORY USAGE SAMPLES 0), false when sampled. */
  exact: boolean;
}

export interface KeyStats {
  complete: boolean;
  extrapolated: boolean;
  /** Multiply sampled counts by this to estimate the whole keyspace (1 when not sampling). */
  factor: number;
  scanned: number;
  dbsize: number;
  vanished: number;
  durationMs: number;
  nodes: { node: string; scanned: number; dbsize: number }[];
  /** Per logical database: what is where, before the details. */
  dbs: DbSummary[];
  types: { type: string; count: number; bytes: number }[];
  ttl: TtlBuckets;
  groups: GroupStats[];
  topByMemory: TopKey[];
  topByLength: TopKey[] | null;
  lengthsMeasured: boolean;
  /** false when MEMORY USAGE was not allowed on some node: every bytes figure then leaves those keys out (0). */
  bytesMeasured: boolean;
  separator: string;
  depth: number;
}

export interface DbSummary {
  db: number;
  scanned: number;
  dbsize: number;
  bytes: number;
  /** Share of the scanned keys that have an expiry. */
  expiringShare: number;
  /** The patterns holding the most memory in this database. */
  topPatterns: string[];
}

/** Beyond this many distinct patterns, new ones count into "[other]": memory stays bounded. */
const MAX_TRACKED_GROUPS = 20_000;
/** Exact sizing walks every element (MEMORY USAGE … SAMPLES 0 is O(n): 2 ms for 30k members): only for candidates this small. */
const EXACT_SIZE_MAX_ELEMENTS = 50_000;

interface GroupAcc {
  count: number;
  bytes: number;
  ttl: TtlBuckets;
  types: Record<string, number>;
  biggestKey: Buffer | null;
  biggestBytes: number;
}

export async function collectKeyStats(target: Target, opts: KeyStatsOptions): Promise<KeyStats> {
  const started = Date.now();
  const noTouch = await keepIdleTimes(target);
  const lengths = opts.lengths === 'auto' ? noTouch : opts.lengths;
  const dbList = opts.dbs ?? [target.db];
  const acc = new KeyStatsAccumulator(opts, lengths);
  let vanished = 0;
  let bytesMeasured = true;
  let complete = true;

  const pace = new Pace(opts.rate);
  const sampleDone = () => opts.sample !== undefined && acc.scanned >= opts.sample;
  await forEachDb(target, dbList, async (t, db) => {
    const sizes = await countKeys(t);
    acc.addDb(db, sizes);
    if (sampleDone() || opts.signal?.aborted) return;
    const walk = walkKeys(t, {
      match: opts.match, type: opts.type, count: opts.count, signal: opts.signal, onFallback: opts.onFallback,
      onNoBytes: (node) => {
        bytesMeasured = false;
        opts.onNoBytes?.(node);
      },
      probe: { type: true, ttl: true, memory: true, length: lengths },
    });
    for await (const batch of walk) {
      await pace.take(batch.keys.length, opts.signal);
      vanished += batch.vanished;
      for (const k of batch.keys) {
        if (sampleDone()) break;
        acc.add(k, batch.node, db);
      }
      opts.onProgress?.({ scanned: acc.scanned, total: opts.sample ?? acc.dbsize, elapsedMs: Date.now() - started });
      if (sampleDone()) break;
    }
  });
  if (opts.sample !== undefined && sampleDone()) complete = acc.scanned >= acc.dbsize;
  if (opts.signal?.aborted) complete = false;
  acc.topMem.replace(await measureExactly(target, acc.topMem.result()), (t) => t.bytes ?? 0);
  return acc.result({ complete, vanished, bytesMeasured, durationMs: Date.now() - started, dbList, sampled: opts.sample !== undefined });
}

/** One key as the report counts it: from a live walk or read from an RDB file. */
export interface CountedKey {
  key: Buffer;
  type?: string | null;
  bytes?: number | null;
  ttlMs?: number | null;
  length?: number | null;
}

/**
 * The report's figures, added to key by key (a walk of a live server and
 * `rdb stats` both build it here, so the two reports are one schema).
 */
export class KeyStatsAccumulator {
  scanned = 0;
  dbsize = 0;
  private readonly perNode = new Map<string, { node: string; scanned: number; dbsize: number }>();
  private lastNode: { node: string; scanned: number; dbsize: number } | undefined;
  private readonly perDb = new Map<number, { db: number; scanned: number; dbsize: number; bytes: number; expiring: number }>();
  private readonly types = new Map<string, { count: number; bytes: number }>();
  // Keyed by database and pattern: the same pattern in two databases is two groups.
  private readonly groups: PatternGroups<GroupAcc & { db: number; pattern: string }>;
  private readonly other: GroupAcc = newGroup();
  private readonly ttl = emptyTtlBuckets();
  readonly topMem: TopN<TopKey & { raw: Buffer }>;
  readonly topLen: TopN<TopKey & { raw: Buffer }>;

  constructor(private readonly opts: PatternOptions & { top: number; groups: number }, private readonly lengths: boolean) {
    this.topMem = new TopN(opts.top);
    this.topLen = new TopN(opts.top);
    this.groups = new PatternGroups(opts);
  }

  /** A database and how many keys each node says it holds (the total the walk counts towards). */
  addDb(db: number, sizes: { node: string; keys: number }[]): void {
    const total = sizes.reduce((a, x) => a + x.keys, 0);
    this.dbsize += total;
    const d = this.perDb.get(db) ?? { db, scanned: 0, dbsize: 0, bytes: 0, expiring: 0 };
    d.dbsize += total;
    this.perDb.set(db, d);
    for (const x of sizes) {
      const n = this.perNode.get(x.node) ?? { node: x.node, scanned: 0, dbsize: 0 };
      n.dbsize += x.keys;
      this.perNode.set(x.node, n);
    }
  }

  add(k: CountedKey, node: string, db: number): void {
    this.scanned++;
    // Keys come node by node: the last node's counter is usually the one.
    let n = this.lastNode?.node === node ? this.lastNode : this.perNode.get(node);
    if (!n) {
      n = { node, scanned: 0, dbsize: 0 };
      this.perNode.set(node, n);
    }
    this.lastNode = n;
    n.scanned++;
    const bytes = k.bytes ?? 0;
    const type = k.type ?? 'unknown';
    let t = this.types.get(type);
    if (!t) {
      t = { count: 0, bytes: 0 };
      this.types.set(type, t);
    }
    t.count++;
    t.bytes += bytes;
    const bucket = ttlBucket(k.ttlMs);
    this.ttl[bucket]++;
    let d = this.perDb.get(db);
    if (!d) {
      d = { db, scanned: 0, dbsize: 0, bytes: 0, expiring: 0 };
      this.perDb.set(db, d);
    }
    d.scanned++;
    d.bytes += bytes;
    if (k.ttlMs !== null && k.ttlMs !== undefined) d.expiring++;
    const g: GroupAcc = this.groups.find(k.key, db, (pattern) => (this.groups.size < MAX_TRACKED_GROUPS ? { ...newGroup(), db, pattern } : null)) ?? this.other;
    g.count++;
    g.bytes += bytes;
    g.ttl[bucket]++;
    g.types[type] = (g.types[type] ?? 0) + 1;
    if (bytes > g.biggestBytes) {
      g.biggestBytes = bytes;
      // A copy: the key may be a view into a buffer that is reused (an RDB file's).
      g.biggestKey = Buffer.from(k.key);
    }
    const byLength = this.lengths && k.length !== null && k.length !== undefined;
    if (!this.topMem.wants(bytes) && !(byLength && this.topLen.wants(k.length!))) return;
    const make = () => ({ ...keyJson(k.key), raw: Buffer.from(k.key), node, type, bytes: k.bytes ?? null, length: k.length ?? null, ttlMs: k.ttlMs ?? null, exact: false });
    this.topMem.offer(bytes, make);
    if (byLength) this.topLen.offer(k.length!, make);
  }

  result(run: { complete: boolean; vanished: number; bytesMeasured: boolean; durationMs: number; dbList: number[]; sampled: boolean }): KeyStats {
    const factor = run.sampled && this.scanned > 0 && !run.complete ? this.dbsize / this.scanned : 1;
    const extrapolated = factor !== 1;
    const scale = (n: number) => (extrapolated ? Math.round(n * factor) : n);
    const groupList = [...this.groups.values()].map((g) => toGroupStats(g.db, g.pattern, g, scale));
    groupList.sort((a, b) => b.bytes - a.bytes || b.count - a.count);
    const shown = groupList.slice(0, this.opts.groups);
    const folded = groupList.slice(this.opts.groups);
    if (folded.length || this.other.count) {
      // [other] spans databases when several were walked.
      const rest = folded.reduce((acc, g) => mergeInto(acc, g), toGroupStats(run.dbList.length === 1 ? run.dbList[0]! : -1, '[other]', this.other, scale));
      shown.push(rest);
    }
    const dbs: DbSummary[] = [...this.perDb.values()].map((d) => ({
      db: d.db,
      scanned: d.scanned,
      dbsize: d.dbsize,
      bytes: scale(d.bytes),
      expiringShare: d.scanned ? d.expiring / d.scanned : 0,
      topPatterns: groupList.filter((g) => g.db === d.db).slice(0, 3).map((g) => g.pattern),
    }));
    return {
      complete: run.complete,
      extrapolated,
      factor,
      scanned: this.scanned,
      dbsize: this.dbsize,
      vanished: run.vanished,
      durationMs: run.durationMs,
      nodes: [...this.perNode.values()],
      dbs,
      types: [...this.types.entries()].map(([type, t]) => ({ type, count: scale(t.count), bytes: scale(t.bytes) })).sort((a, b) => b.bytes - a.bytes),
      ttl: Object.fromEntries(Object.entries(this.ttl).map(([k, v]) => [k, scale(v)])) as unknown as TtlBuckets,
      groups: shown,
      topByMemory: this.topMem.result().map(strip),
      topByLength: this.lengths ? this.topLen.result().map(strip) : null,
      lengthsMeasured: this.lengths,
      bytesMeasured: run.bytesMeasured,
      separator: this.opts.separator,
      depth: this.opts.depth,
    };
  }
}

function newGroup(): GroupAcc {
  return { count: 0, bytes: 0, ttl: emptyTtlBuckets(), types: {}, biggestKey: null, biggestBytes: -1 };
}

function toGroupStats(db: number, pattern: string, g: GroupAcc, scale: (n: number) => number): GroupStats {
  return {
    db,
    pattern,
    count: scale(g.count),
    bytes: scale(g.bytes),
    noTtlShare: g.count ? g.ttl.none / g.count : 0,
    ttl: Object.fromEntries(Object.entries(g.ttl).map(([k, v]) => [k, scale(v)])) as unknown as TtlBuckets,
    types: Object.fromEntries(Object.entries(g.types).map(([k, v]) => [k, scale(v)])),
    biggest: g.biggestKey ? { ...keyJson(g.biggestKey), bytes: g.biggestBytes } : null,
  };
}

function mergeInto(acc: GroupStats, g: GroupStats): GroupStats {
  const noTtl = acc.noTtlShare * acc.count + g.noTtlShare * g.count;
  acc.count += g.count;
  acc.bytes += g.bytes;
  acc.noTtlShare = acc.count ? noTtl / acc.count : 0;
  for (const k of Object.keys(acc.ttl) as (keyof TtlBuckets)[]) acc.ttl[k] += g.ttl[k];
  for (const [t, n] of Object.entries(g.types)) acc.types[t] = (acc.types[t] ?? 0) + n;
  if (g.biggest && (!acc.biggest || g.biggest.bytes > acc.biggest.bytes)) acc.biggest = g.biggest;
  return acc;
}

/**
 * Re-measures the top candidates with SAMPLES 0 (every element), in one short
 * script per key, only where the key is small enough not to stall the server.
 */
async function measureExactly(target: Target, top: (TopKey & { raw: Buffer })[]): Promise<(TopKey & { raw: Buffer })[]> {
  const { loadScript, runScript } = await import('../scripts/loader.js');
  const script = loadScript('exact-memory-1', target.serverVersion);
  for (const t of top) {
    try {
      const bytes = await runScript(target.client, script, [t.raw], [EXACT_SIZE_MAX_ELEMENTS]);
      if (typeof bytes === 'number' && bytes >= 0) {
        t.bytes = bytes;
        t.exact = true;
      }
    } catch {
      // EVAL refused or the key moved: the sampled figure stands, marked as such.
    }
  }
  top.sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0));
  return top;
}

function strip(t: TopKey & { raw: Buffer }): TopKey {
  const { raw: _raw, ...rest } = t;
  return rest;
}
