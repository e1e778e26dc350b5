import { InputError, UsageError } from '../../errors.js';
import type { Target } from '../connect/target.js';
import { keyMatches } from '../glob.js';
import { keyJson } from '../keyname.js';
import type { Rails, StopReason } from '../rails.js';
import { keyOf, parseJson, validateRecord, type KeyRecord, type RecordHead } from './format.js';
import type { RawLine, ReadItem } from './reader.js';

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
  /**
   * Strings are written with plain SET … NX commands instead of the restore
   * script (setBatch.ts), where they can be: into one server (not a
   * cluster), keys that exist left alone or refused (not --replace). For
   * `copy`, whose limit is the destination's CPU; a restore's limit is its
   * own CPU, which these commands cost more.
   */
  plainStrings?: boolean;
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

/** A key written in parts (a big key or a stream), or skipped part by part. */
export interface BigKey { target: Target; record: KeyRecord; key: Buffer; temp: string; expireAt: number; skip: boolean }

/**
 * One restore run, record by record: what every run shares (filters,
 * expiries, budgets, targets per database, the summary). What happens to an
 * admitted key is the subclass's: KeyWriter writes it (restoreWriter.ts), a
 * dry run's RestorePreview only checks whether it exists (restorePreview.ts).
 */
export abstract class RestoreRun {
  readonly summary: RestoreSummary;
  protected readonly targets = new Map<number, Promise<Target>>();
  protected big: BigKey | null = null;
  /** Keys admitted since the last flush: not yet known to be created, replaced or left alone. */
  private unsettled = 0;
  private readonly started = Date.now();

  constructor(protected readonly base: Target, protected readonly opts: RestoreOptions, protected readonly rails: Rails, source: string) {
    this.summary = { dryRun: rails.dryRun, source, records: 0, keys: 0, created: 0, replaced: 0, skipped: 0, expired: 0, filtered: 0, empty: 0, durationMs: 0, stoppedBy: null };
  }

  /**
   * Applies one record; returns false once a budget stops the run. An
   * unparsed line (the apply pass of a verified file) goes straight from its
   * bytes into a restore batch when it can, and is parsed when it cannot.
   */
  async apply(item: ReadItem | RawLine): Promise<boolean> {
    await this.settleForLimit();
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
    await this.place(await this.targetOf(r.db), r, key, expireAt);
    return true;
  }

  /** An admitted key: written, or looked at by a dry run. */
  protected abstract place(target: Target, r: KeyRecord, key: Buffer, expireAt: number): Promise<void>;
  /** Writes (or checks) what is batched. */
  protected abstract flush(): Promise<void>;
  /** One part of a big key being written. */
  protected abstract writePart(r: KeyRecord): Promise<void>;

  /**
   * --limit counts keys created or replaced, which the server tells only when
   * a batch is written: with as many keys in flight as the budget has left,
   * write them and learn, so the run stops at exactly N (and keys left alone
   * do not use up the budget). Called before a record is begun, never with
   * half a record in a batch.
   */
  private async settleForLimit(): Promise<void> {
    const limit = this.rails.options.limit;
    if (limit !== undefined && this.unsettled > 0 && this.unsettled >= limit - this.rails.changedCount) {
      await this.flush();
      this.unsettled = 0;
    }
  }

  /** Everything applied so far is written (or checked), and acknowledged by the server. */
  async sync(): Promise<void> {
    await this.flush();
  }

  /** The fast path for an unparsed line; null: parse it (the default). */
  protected async applyLine(_line: Buffer, _head: RecordHead): Promise<boolean | null> {
    return null;
  }

  /**
   * Whether a key is restored, counted in the summary: its expire-at (-1:
   * none), 'skip' (filtered out, or past its expiry), or 'stop' (a budget
   * of the rails is spent).
   */
  protected async admitKey(db: number, key: Buffer, type: string, times: { expireAtMs: number | null; capturedAtMs: number }): Promise<number | 'skip' | 'stop'> {
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
    if (admitted) this.unsettled++;
    if (!admitted) {
      this.summary.stoppedBy = this.rails.stopReason;
      return 'stop';
    }
    this.summary.keys++;
    return expireAt;
  }

  protected passesFilters(db: number, key: Buffer, type: string): boolean {
    return (this.opts.onlyDb === undefined || db === this.opts.onlyDb) && keyMatches(key, this.opts.match) && (!this.opts.types.length || this.opts.types.includes(type));
  }

  async finish(): Promise<RestoreSummary> {
    await this.flush();
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

  protected async targetOf(sourceDb: number): Promise<Target> {
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

  protected async continueBig(r: KeyRecord): Promise<void> {
    const big = this.big!;
    if (r.type !== big.record.type || !keyOf(r).equals(big.key) || r.db !== big.record.db) {
      throw new InputError(`a continuation record does not belong to key ${JSON.stringify(keyJson(big.key))}`);
    }
    if (!big.skip) await this.writePart(r);
    else if (!r.more) this.big = null;
  }

  /** A run that fails: what it leaves behind, said in the error (null: nothing). */
  async abandon(): Promise<string | null> {
    this.big = null;
    return null;
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
}
