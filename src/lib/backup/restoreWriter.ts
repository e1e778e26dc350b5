import type { Cluster, Redis } from 'ioredis';
import { InputError, UsageError } from '../../errors.js';
import { versionAtLeast, type Target } from '../connect/target.js';
import { keyJson } from '../keyname.js';
import { loadScript, runScript, runScriptEncoded } from '../scripts/loader.js';
import { sameSlotKey } from '../slotTag.js';
import { decodeBytes, type KeyRecord, type RecordHead, type StreamValue } from './format.js';
import { DumpBatch } from './rdbPayload.js';
import { SetBatch } from './setBatch.js';
import { RestoreRun } from './restoreRun.js';

/** Keys, elements and bytes per restore script call (keeps each call short). */
const BATCH_KEYS = 200;
const BATCH_VALUES = 10000;
const BATCH_BYTES = 1 << 20;
/**
 * Batches sent and not yet answered, at most: the server works on them while
 * the next is built. A flush may send two (the script's batch and the SETs
 * of its strings), so this is two flushes' worth: with 2, a copy measured 4%
 * slower.
 */
const IN_FLIGHT = 4;
/** A half-built key left by a crash disappears on its own. */
const TEMP_TTL_MS = 3_600_000;

interface Group {
  target: Target;
  absttl: boolean;
  keys: Buffer[];
  batch: DumpBatch;
  /** Strings as SET … NX commands (RestoreOptions.plainStrings), or null: every key goes through the script. */
  sets: SetBatch | null;
}

/**
 * Writes what a restore admits. Small keys go in batches, each key written
 * atomically by one script; big keys and streams are built under a
 * temporary name in the same slot and renamed into place, so a key is never
 * visible half-written, and a crash leaves at most a temporary key that
 * expires by itself.
 */
export class KeyWriter extends RestoreRun {
  private batch = new Map<string, Group>();

  protected async place(target: Target, r: KeyRecord, key: Buffer, expireAt: number): Promise<void> {
    if (r.more || r.type === 'stream') {
      await this.startBig(target, r, key, expireAt);
      return;
    }
    const [id, group] = this.groupFor(target, key);
    const ttl = restoreTtl(group.absttl, expireAt);
    if (group.sets && r.type === 'string') group.sets.add(key, stringBytes(r.value), ttl);
    else {
      group.keys.push(key);
      group.batch.add(r, ttl);
    }
    await this.flushIfFull(id, group);
  }

  /**
   * The fast path of apply(): the line's value goes into its batch first (so
   * that a line it cannot read falls back to parsing before anything is
   * counted or admitted), then the same steps as a parsed record. Null when
   * the line has to be parsed (not a small key in the plain form).
   */
  protected override async applyLine(line: Buffer, head: RecordHead): Promise<boolean | null> {
    if (this.big) return null;
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
    const ttl = restoreTtl(group.absttl, expireAt);
    if (group.sets && head.type === 'string') group.sets.add(head.key, group.batch.takeString(), ttl);
    else {
      group.keys.push(head.key);
      group.batch.commit(ttl);
    }
    await this.flushIfFull(id, group);
    return true;
  }

  /** The batch of a key's database and slot (one script call writes one slot). */
  private groupFor(target: Target, key: Buffer): [string, Group] {
    const id = `${target.db}:${target.slotOf(key)}`;
    let group = this.batch.get(id);
    if (!group) {
      const absttl = absoluteTtl(target);
      const plain = this.opts.plainStrings && this.opts.mode !== 'replace' && target.mode !== 'cluster';
      this.batch.set(id, (group = { target, absttl, keys: [], batch: new DumpBatch(), sets: plain ? new SetBatch(absttl) : null }));
    }
    return [id, group];
  }

  private async flushIfFull(id: string, group: Group): Promise<void> {
    const keys = group.keys.length + (group.sets?.keys.length ?? 0);
    const bytes = group.batch.at + (group.sets?.at ?? 0);
    if (keys >= BATCH_KEYS || group.batch.values >= BATCH_VALUES || bytes >= BATCH_BYTES) await this.flushGroup(id);
  }

  /** Batches sent and not yet answered (at most IN_FLIGHT). */
  private inFlight: Promise<void>[] = [];

  protected async flush(): Promise<void> {
    for (const k of [...this.batch.keys()]) await this.flushGroup(k);
    await Promise.all(this.inFlight.splice(0));
  }

  private async flushGroup(id: string): Promise<void> {
    const group = this.batch.get(id);
    if (!group) return;
    this.batch.delete(id);
    const { target, keys, sets } = group;
    if (keys.length) await this.send(target, keys, this.runBatch(target, keys, group));
    if (sets?.keys.length) await this.send(target, sets.keys, sets.send(target.client as Redis).then((written) => written.map(Number)));
  }

  /** The restore script on one batch: per key 0 (left alone), 1 (created) or 2 (replaced). */
  private async runBatch(target: Target, keys: Buffer[], group: Group): Promise<number[]> {
    const args = [Buffer.from(this.opts.mode === 'replace' ? '1' : '0'), Buffer.from(group.absttl ? '1' : '0'), group.batch.finish()];
    const script = loadScript('restore-keys', target.serverVersion);
    try {
      return ((await runScriptEncoded(target.client, script, keys, args)) as unknown[]).map(Number);
    } catch (e) {
      const m = /key #(\d+): (.*)/.exec((e as Error).message);
      if (!m) throw e;
      throw new InputError(`the server refused the value of key ${JSON.stringify(keyJson(keys[Number(m[1]) - 1]!))} in db ${target.db}: ${m[2]}`);
    }
  }

  /** Counts and logs a batch's outcome per key as it is answered; waits while IN_FLIGHT batches are unanswered. */
  private async send(target: Target, keys: Buffer[], results: Promise<number[]>): Promise<void> {
    const sent = results.then(async (res) => {
      res.forEach((r, i) => this.count(r, keys[i]!, target.db));
      await this.rails.record(keys.filter((_, i) => res[i] !== 0).map((key) => ({ key, action: 'restore', db: target.db })));
      this.opts.onProgress?.(this.summary.created + this.summary.replaced + this.summary.skipped);
    });
    sent.catch(() => undefined); // awaited below or in finish(); a failure surfaces there
    this.inFlight.push(sent);
    if (this.inFlight.length >= IN_FLIGHT) await this.inFlight.shift();
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

  /**
   * A run that fails in the middle of a big key removes its temporary key
   * (or, when even that fails, names it: it expires within an hour).
   */
  override async abandon(): Promise<string | null> {
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

  /** Writes one part of a big key (or a stream) into its temporary key; the last part puts it in place. */
  protected async writePart(r: KeyRecord): Promise<void> {
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

/** A string record's value as bytes: a JSON string's UTF-8, or its {"b64"}. */
function stringBytes(value: KeyRecord['value']): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : decodeBytes(value, 'value');
}

/** A one-record collection with no elements: `"value":[]}` (Redis has no empty collections). */
function isEmptyValue(line: Buffer, head: RecordHead): boolean {
  return line[head.valueAt] === 0x5b && line[head.valueAt + 1] === 0x5d;
}

/** SET … PXAT is Redis 6.2+ (RESTORE … ABSTTL 5.0+); older servers get the time left, measured here. */
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

