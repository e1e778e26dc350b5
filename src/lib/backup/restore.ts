import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { InputError, UsageError, withDetail } from '../../errors.js';
import { versionAtLeast, type Target } from '../connect/target.js';
import { keyMatches } from '../glob.js';
import { keyJson } from '../keyname.js';
import type { Rails, StopReason } from '../rails.js';
import { loadScript, runScript, runScriptEncoded } from '../scripts/loader.js';
import { sameSlotKey } from '../slotTag.js';
import { decodeBytes, keyOf, parseJson, validateRecord, type Header, type KeyRecord, type RecordHead, type StreamValue } from './format.js';
import { DumpBatch } from './rdbPayload.js';
import { readBackup, readBackupLines, type RawLine, type ReadItem } from './reader.js';

export type ExistingMode = 'skip' | 'replace' | 'fail';
export type TtlMode = 'absolute' | 'relative' | 'none';

export interface RestoreOptions {
  mode: ExistingMode;
  ttl: TtlMode;
  match: RegExp[];
  types: string[];
  /** Only records of this database. */
  onlyDb?: number;
  /** Source database → target database. */
  dbMap: Map<number, number>;
  signal?: AbortSignal;
  onProgress?: (keys: number) => void;
}

export interface RestoreSummary {
  dryRun: boolean;
  source: string;
  records: number;
  keys: number;
  created: number;
  replaced: number;
  /** Existing keys left alone (--skip-existing). */
  skipped: number;
  /** Past their expiry (--ttl absolute) or out of TTL (--ttl relative): not restored. */
  expired: number;
  /** Left out by --match, --type or --db. */
  filtered: number;
  /** Collections with no elements in the file (a big key emptied while it was read): Redis has no empty collections, so nothing is written. */
  empty: number;
  durationMs: number;
  stoppedBy: StopReason | null;
}

/** Keys, elements and bytes per restore script call (keeps each call short). */
const BATCH_KEYS = 200;
const BATCH_VALUES = 10000;
const BATCH_BYTES = 1 << 20;
/** A half-built key left by a crash disappears on its own. */
const TEMP_TTL_MS = 3_600_000;

interface Group {
  target: Target;
  absttl: boolean;
  keys: Buffer[];
  batch: DumpBatch;
}

/**
 * Restores records through the rails. Small keys go in batches, each key
 * written atomically by one script; big keys and streams are built under a
 * temporary name in the same slot and renamed into place, so a key is never
 * visible half-written, and a crash leaves at most a temporary key that
 * expires by itself.
 */
export class Restorer {
  readonly summary: RestoreSummary;
  private readonly targets = new Map<number, Promise<Target>>();
  private batch = new Map<string, Group>();
  private big: { target: Target; record: KeyRecord; key: Buffer; temp: string; expireAt: number; skip: boolean } | null = null;
  private readonly started = Date.now();

  constructor(private readonly base: Target, private readonly opts: RestoreOptions, private readonly rails: Rails, source: string) {
    this.summary = { dryRun: rails.dryRun, source, records: 0, keys: 0, created: 0, replaced: 0, skipped: 0, expired: 0, filtered: 0, empty: 0, durationMs: 0, stoppedBy: null };
  }

  /**
   * Applies one record; returns false once a budget stops the run. An
   * unparsed line (the apply pass of a verified file) goes straight from its
   * bytes into a restore batch when it can, and is parsed when it cannot.
   */
  async apply(item: ReadItem | RawLine): Promise<boolean> {
    if ('raw' in item) {
      const done = await this.applyLine(item.raw, item.head);
      if (done !== null) return done;
      const where = `${this.summary.source} line ${item.lineNo}`;
      item = { record: validateRecord(parseJson(item.raw.toString('utf8'), where), where), lineNo: item.lineNo };
    }
    const r = item.record;
    this.summary.records++;
    const continuing = this.big && r.part !== undefined && r.part > 0;
    if (continuing) {
      await this.continueBig(r);
      return true;
    }
    if (r.part !== undefined && r.part > 0) throw new InputError(`line ${item.lineNo}: part ${r.part} of a key whose first part is missing`);
    const key = keyOf(r);
    if (!r.more && Array.isArray(r.value) && r.value.length === 0) {
      // Nothing to write: count it where the other keys are counted.
      if (this.passesFilters(r.db, key, r.type)) {
        this.summary.keys++;
        this.summary.empty++;
      } else this.summary.filtered++;
      return true;
    }
    const expireAt = await this.admitKey(r.db, key, r.type, r);
    if (typeof expireAt !== 'number') {
      if (expireAt === 'stop') return false;
      if (r.more) this.big = { target: this.base, record: r, key, temp: '', expireAt: -1, skip: true };
      return true;
    }
    const target = await this.targetOf(r.db);
    if (this.rails.dryRun) {
      // Read-only: which keys exist decides created / replaced / skipped; checked a batch at a time.
      this.dryBatch.push({ target, key });
      if (this.dryBatch.length >= 500) await this.flushDry();
      if (r.more) this.big = { target, record: r, key, temp: '', expireAt, skip: true };
      return true;
    }
    if (r.more || r.type === 'stream') {
      await this.startBig(target, r, key, expireAt);
      return true;
    }
    const [id, group] = this.groupFor(target, key);
    group.keys.push(key);
    group.batch.add(r, restoreTtl(group.absttl, expireAt));
    await this.flushIfFull(id, group);
    return true;
  }

  /**
   * The fast path of apply(): the line's value goes into its batch first (so
   * that a line it cannot read falls back to parsing before anything is
   * counted or admitted), then the same steps as a parsed record. Null when
   * the line has to be parsed (not a small key in the plain form, or a dry run).
   */
  private async applyLine(line: Buffer, head: RecordHead): Promise<boolean | null> {
    if (this.big || this.rails.dryRun) return null;
    // A record of a database left out by --db is never given a target (into a cluster, that would be an error).
    if (head.type === 'stream' || isEmptyValue(line, head) || (this.opts.onlyDb !== undefined && head.db !== this.opts.onlyDb)) return null;
    const [id, group] = this.groupFor(await this.targetOf(head.db), head.key);
    if (!group.batch.addLine(line, head)) return null;
    this.summary.records++;
    const expireAt = await this.admitKey(head.db, head.key, head.type, head);
    if (typeof expireAt !== 'number') {
      group.batch.discard();
      return expireAt !== 'stop';
    }
    group.keys.push(head.key);
    group.batch.commit(restoreTtl(group.absttl, expireAt));
    await this.flushIfFull(id, group);
    return true;
  }

  /**
   * Whether a key is restored, counted in the summary: its expire-at (-1:
   * none), 'skip' (filtered out, or past its expiry), or 'stop' (a budget
   * of the rails is spent).
   */
  private async admitKey(db: number, key: Buffer, type: string, times: { expireAtMs: number | null; capturedAtMs: number }): Promise<number | 'skip' | 'stop'> {
    if (!this.passesFilters(db, key, type)) {
      this.summary.filtered++;
      return 'skip';
    }
    const expireAt = this.expiry(times);
    if (expireAt === null) {
      this.summary.keys++;
      this.summary.expired++;
      return 'skip';
    }
    const admitted = this.rails.unbudgeted ? !this.rails.interrupted : (await this.rails.admit(1)) > 0;
    if (!admitted) {
      this.summary.stoppedBy = this.rails.stopReason;
      return 'stop';
    }
    this.summary.keys++;
    return expireAt;
  }

  private passesFilters(db: number, key: Buffer, type: string): boolean {
    return (this.opts.onlyDb === undefined || db === this.opts.onlyDb) && keyMatches(key, this.opts.match) && (!this.opts.types.length || this.opts.types.includes(type));
  }

  /** The batch of a key's database and slot (one script call writes one slot). */
  private groupFor(target: Target, key: Buffer): [string, Group] {
    const id = `${target.db}:${target.mode === 'cluster' ? calculateSlot(key) : 0}`;
    let group = this.batch.get(id);
    if (!group) this.batch.set(id, (group = { target, absttl: absoluteTtl(target), keys: [], batch: new DumpBatch() }));
    return [id, group];
  }

  private async flushIfFull(id: string, group: Group): Promise<void> {
    if (group.keys.length >= BATCH_KEYS || group.batch.values >= BATCH_VALUES || group.batch.at >= BATCH_BYTES) await this.flushGroup(id);
  }

  /** Batches sent and not yet answered: two keep the server busy while the next one is built. */
  private inFlight: Promise<void>[] = [];
  private dryBatch: { target: Target; key: Buffer }[] = [];

  private async flushDry(): Promise<void> {
    const batch = this.dryBatch.splice(0);
    const byTarget = new Map<Target, Buffer[]>();
    for (const { target, key } of batch) byTarget.set(target, [...(byTarget.get(target) ?? []), key]);
    for (const [target, keys] of byTarget) {
      const p = target.client.pipeline();
      for (const k of keys) p.exists(k);
      const replies = (await p.exec()) ?? [];
      replies.forEach(([err, n]) => {
        if (err) throw target.fail(err);
        const exists = Number(n) === 1;
        if (exists && this.opts.mode !== 'replace') this.summary.skipped++;
        else if (exists) this.summary.replaced++;
        else this.summary.created++;
      });
      await this.rails.record(keys.map((key) => ({ key, action: 'restore', db: target.db })));
    }
  }

  async finish(): Promise<RestoreSummary> {
    await this.flushDry();
    for (const k of [...this.batch.keys()]) await this.flushGroup(k);
    await Promise.all(this.inFlight.splice(0));
    if (this.big && !this.big.skip) throw new InputError(`the backup ends in the middle of key ${JSON.stringify(keyJson(this.big.key))}`);
    this.summary.durationMs = Date.now() - this.started;
    return this.summary;
  }

  async close(): Promise<void> {
    for (const [db, t] of this.targets) if (db !== this.base.db) await (await t).close();
  }

  /** --fail-on-existing: true when any of these records' keys exists already (read-only). */
  async anyExists(records: KeyRecord[]): Promise<Buffer | null> {
    const wanted = records.filter((r) => !r.part && (this.opts.onlyDb === undefined || r.db === this.opts.onlyDb) && keyMatches(keyOf(r), this.opts.match) && (!this.opts.types.length || this.opts.types.includes(r.type)));
    const byDb = new Map<number, KeyRecord[]>();
    for (const r of wanted) byDb.set(r.db, [...(byDb.get(r.db) ?? []), r]);
    for (const [db, rs] of byDb) {
      const t = await this.targetFor(db);
      const p = t.client.pipeline();
      for (const r of rs) p.exists(keyOf(r));
      const res = (await p.exec()) ?? [];
      const i = res.findIndex(([, v]) => Number(v) === 1);
      if (i >= 0) return keyOf(rs[i]!);
    }
    return null;
  }

  private expiry(r: { expireAtMs: number | null; capturedAtMs: number }): number | null {
    if (this.opts.ttl === 'none' || r.expireAtMs === null) return -1;
    const now = Date.now();
    if (this.opts.ttl === 'absolute') return r.expireAtMs > now ? r.expireAtMs : null;
    const left = r.expireAtMs - r.capturedAtMs;
    return left > 0 ? now + left : null;
  }

  /** Targets by source db, once connected: looked up per record, without a wait once known. */
  private readonly ready = new Map<number, Target>();

  private async targetOf(sourceDb: number): Promise<Target> {
    let t = this.ready.get(sourceDb);
    if (!t) this.ready.set(sourceDb, (t = await this.targetFor(sourceDb)));
    return t;
  }

  private targetFor(sourceDb: number): Promise<Target> {
    const db = this.opts.dbMap.get(sourceDb) ?? sourceDb;
    let t = this.targets.get(db);
    if (!t) {
      if (this.base.mode === 'cluster' && db !== 0) throw new UsageError(`${this.base.address} is a cluster, which has only database 0: the backup holds database ${sourceDb} (use --db-map ${sourceDb}:0 or --db 0)`);
      t = db === this.base.db ? Promise.resolve(this.base) : this.base.forDb(db);
      this.targets.set(db, t);
    }
    return t;
  }

  private async flushGroup(id: string): Promise<void> {
    const group = this.batch.get(id);
    if (!group || group.keys.length === 0) return;
    this.batch.delete(id);
    const { target, keys } = group;
    const args = [Buffer.from(this.opts.mode === 'replace' ? '1' : '0'), Buffer.from(group.absttl ? '1' : '0'), group.batch.finish()];
    const script = loadScript('restore-keys', target.serverVersion);
    const sent = runScriptEncoded(target.client, script, keys, args).then(async (reply) => {
      const results = reply as number[];
      results.forEach((res, i) => this.count(Number(res), keys[i]!, target.db));
      await this.rails.record(keys.filter((_, i) => Number(results[i]) !== 0).map((key) => ({ key, action: 'restore', db: target.db })));
      this.opts.onProgress?.(this.summary.created + this.summary.replaced + this.summary.skipped);
    }, (e: Error) => {
      const m = /key #(\d+): (.*)/.exec(e.message);
      if (!m) throw e;
      throw new InputError(`the server refused the value of key ${JSON.stringify(keyJson(keys[Number(m[1]) - 1]!))} in db ${target.db}: ${m[2]}`);
    });
    sent.catch(() => undefined); // awaited below or in finish(); a failure surfaces there
    this.inFlight.push(sent);
    if (this.inFlight.length >= 2) await this.inFlight.shift();
  }

  private count(res: number, key: Buffer, db: number): void {
    if (res === 1) this.summary.created++;
    else if (res === 2) this.summary.replaced++;
    else if (res === 0) {
      if (this.opts.mode === 'fail') throw new UsageError(`key ${JSON.stringify(keyJson(key))} exists in db ${db} (--fail-on-existing); keys restored before it stay restored`);
      this.summary.skipped++;
    }
  }

  private async startBig(target: Target, r: KeyRecord, key: Buffer, expireAt: number): Promise<void> {
    // Keys before this one are written first: a failure in its parts then
    // leaves exactly the keys before it restored, as the count says.
    for (const k of [...this.batch.keys()]) await this.flushGroup(k);
    await Promise.all(this.inFlight.splice(0));
    const temp = sameSlotKey(key, 'redis-ops:restore');
    this.big = { target, record: r, key, temp, expireAt, skip: false };
    await this.writePart(r);
  }

  private async continueBig(r: KeyRecord): Promise<void> {
    const big = this.big!;
    if (r.type !== big.record.type || !keyOf(r).equals(big.key) || r.db !== big.record.db) {
      throw new InputError(`a continuation record does not belong to key ${JSON.stringify(keyJson(big.key))}`);
    }
    if (!big.skip) await this.writePart(r);
    else if (!r.more) this.big = null;
  }

  /**
   * A run that fails in the middle of a big key removes its temporary key
   * (or, when even that fails, names it: it expires within an hour).
   */
  async abandon(): Promise<string | null> {
    // Batches already sent still count (what they wrote is written).
    await Promise.allSettled(this.inFlight.splice(0));
    const big = this.big;
    this.big = null;
    if (!big || big.skip || !big.temp) return null;
    try {
      await big.target.client.unlink(big.temp);
      return null;
    } catch {
      return `the temporary key ${big.temp} is left (it expires within an hour)`;
    }
  }

  /** Called with the count of keys written or left alone, as batches are answered. */
  onProgress(fn: (keys: number) => void): void {
    this.opts.onProgress = fn;
  }

  /** A driver error as a typed one naming the target. */
  fail(e: unknown): Error {
    return this.base.fail(e);
  }

  /** Keys written so far (created or replaced). */
  get written(): number {
    return this.summary.created + this.summary.replaced;
  }

  /** Writes one part of a big key (or a stream) into its temporary key; the last part puts it in place. */
  private async writePart(r: KeyRecord): Promise<void> {
    const big = this.big!;
    const c = big.target.client;
    const temp = big.temp;
    const p = c.pipeline();
    const values = r.type === 'stream' ? [] : flatValues(r);
    switch (r.type) {
      case 'string':
        p.append(temp, values[0] as Buffer);
        break;
      case 'list':
        for (let i = 0; i < values.length; i += 1000) p.rpush(temp, ...values.slice(i, i + 1000));
        break;
      case 'set':
        for (let i = 0; i < values.length; i += 1000) p.sadd(temp, ...values.slice(i, i + 1000));
        break;
      case 'hash':
        for (let i = 0; i < values.length; i += 1000) p.hset(temp, ...(values.slice(i, i + 1000) as [Buffer, Buffer]));
        break;
      case 'zset':
        for (let i = 0; i < values.length; i += 1000) p.zadd(temp, ...(values.slice(i, i + 1000) as unknown as [number, Buffer]));
        break;
      case 'stream':
        for (const [id, fields] of (r.value as StreamValue).entries) {
          p.xadd(temp, id, ...fields.map((f, i) => decodeBytes(f, `stream field ${i}`)));
        }
        break;
    }
    if (r.part === undefined || r.part === 0) p.pexpire(temp, TEMP_TTL_MS);
    const replies = (await p.exec()) ?? [];
    const err = replies.find(([e]) => e)?.[0];
    if (err) throw big.target.fail(err);
    if (r.more) return;
    if (r.type === 'stream') await this.streamMetadata(big.target, temp, r.value as StreamValue);
    const finish = loadScript('restore-finish-2', big.target.serverVersion);
    const res = Number(await runScript(c, finish, [temp, big.key], [this.opts.mode === 'replace' ? 1 : 0, big.expireAt]));
    if (res === -1) throw new UsageError(`the temporary key ${temp} vanished while key ${JSON.stringify(keyJson(big.key))} was being restored (did it expire? the restore took over an hour)`);
    this.count(res, big.key, big.target.db);
    if (res !== 0) await this.rails.record([{ key: big.key, action: 'restore', db: big.target.db }]);
    this.big = null;
  }

  /** Recreates what XADD alone does not: last id, counters, groups, consumers, pending entries (aof.c's recipe). */
  private async streamMetadata(target: Target, temp: string, s: StreamValue): Promise<void> {
    const c: Redis | Cluster = target.client;
    const modern = versionAtLeast(target.serverVersion, '7.0.0');
    const p = c.pipeline();
    // XSETID needs an existing key: an empty stream is created by one entry trimmed away.
    if (!(await c.exists(temp))) p.xadd(temp, 'MAXLEN', '0', '0-1', 'x', 'y');
    if (modern) {
      const args: (string | number)[] = [temp, s.lastId];
      if (s.entriesAdded !== null) args.push('ENTRIESADDED', s.entriesAdded);
      if (s.maxDeletedId !== null) args.push('MAXDELETEDID', s.maxDeletedId);
      p.call('XSETID', ...args);
    } else p.call('XSETID', temp, s.lastId);
    for (const g of s.groups) {
      const name = decodeBytes(g.name, 'group name');
      if (modern && g.entriesRead !== null) p.call('XGROUP', 'CREATE', temp, name, g.lastDeliveredId, 'ENTRIESREAD', g.entriesRead);
      else p.call('XGROUP', 'CREATE', temp, name, g.lastDeliveredId);
      for (const consumer of g.consumers) p.call('XGROUP', 'CREATECONSUMER', temp, name, decodeBytes(consumer, 'consumer'));
      for (const pe of g.pending) {
        p.call('XCLAIM', temp, name, decodeBytes(pe.consumer, 'consumer'), 0, pe.id, 'TIME', pe.deliveryTimeMs, 'RETRYCOUNT', pe.deliveryCount, 'FORCE', 'JUSTID');
      }
    }
    const replies = (await p.exec()) ?? [];
    const err = replies.find(([e]) => e)?.[0];
    if (err) throw target.fail(err);
  }
}

/** SET … PXAT is Redis 6.2+ (RESTORE … ABSTTL 5.0+); older servers get the time left, measured here. */
/** A one-record collection with no elements: `"value":[]}` (Redis has no empty collections). */
function isEmptyValue(line: Buffer, head: RecordHead): boolean {
  return line[head.valueAt] === 0x5b && line[head.valueAt + 1] === 0x5d;
}

function absoluteTtl(target: Target): boolean {
  return versionAtLeast(target.serverVersion, '6.2.0') || target.serverVersion === null;
}

/** The RESTORE ttl argument for an expire-at (-1: none); 0 means no expiry to RESTORE. */
function restoreTtl(absttl: boolean, expireAt: number): number {
  if (expireAt < 0) return 0;
  return absttl ? expireAt : Math.max(1, expireAt - Date.now());
}

/**
 * A record's value as the arguments its write command takes (zset: score
 * before member). JSON strings stay strings (their UTF-8 bytes are the
 * value); {"b64"} values become Buffers.
 */
function flatValues(r: KeyRecord): (Buffer | string)[] {
  const b = (v: unknown) => (typeof v === 'string' ? v : decodeBytes(v, 'value'));
  switch (r.type) {
    case 'string':
      return [b(r.value)];
    case 'list':
    case 'set':
      return (r.value as unknown[]).map(b);
    case 'hash': {
      const out: (Buffer | string)[] = [];
      for (const [f, v] of r.value as [unknown, unknown][]) out.push(b(f), b(v));
      return out;
    }
    case 'zset': {
      const out: (Buffer | string)[] = [];
      for (const [m, score] of r.value as [unknown, string][]) out.push(score, b(m));
      return out;
    }
    default:
      return [];
  }
}

/**
 * Restores a file or stdin. A file that has just been verified (`verified`)
 * is applied from its raw lines; stdin (and an unverified file) is checked
 * record by record and applied as it streams.
 */
export async function restoreFrom(source: string, restorer: Restorer, onHeader: (h: Header) => void, verified = false): Promise<void> {
  let applied = 0;
  try {
    // The apply pass of a verified file: its keys were already checked once each.
    reading: for await (const batch of verified ? readBackupLines(source, onHeader, { verified: true }) : readBackup(source, onHeader)) {
      for (const item of batch) {
        if (!(await restorer.apply(item))) break reading;
        applied++;
      }
    }
    await restorer.finish();
  } catch (e) {
    // From stdin, the records before a bad line are applied (a killed run's
    // partial file restores up to where it stops).
    if (e instanceof InputError && source === '-') await restorer.finish().catch(() => undefined);
    const left = await restorer.abandon();
    const err = e instanceof Error ? e : new Error(String(e));
    if (e instanceof InputError && source === '-') throw withDetail(err, `stopped after applying ${applied} record(s)${left ? `; ${left}` : ''}`);
    throw left ? withDetail(restorer.fail(err), left) : err;
  }
}
