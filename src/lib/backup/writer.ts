import { forEachDb } from '../connect/dbs.js';
import type { NodeHandle, Target } from '../connect/target.js';
import { keepIdleTimes, versionAtLeast } from '../connect/target.js';
import { globToRegExp, keyMatches } from '../glob.js';
import { keyJson } from '../keyname.js';
import { walkKeys } from '../scan/walk.js';
import { loadScript, runScriptEncoded, type Script } from '../scripts/loader.js';
import { KeySet } from './keySet.js';
import { isKeyType, TYPE_BY_CODE } from '../keyTypes.js';
import { LINES_CHUNK, LineWriter } from './lineWriter.js';
import { PackedReader } from './packedReader.js';
import { FORMAT, FORMAT_VERSION, recordLine, type Header, type KeyRecord, type KeyType } from './format.js';
import { CHUNK, pageBigKey } from './paging.js';
import type { RecordSink } from './sink.js';

/**
 * The read pipeline of a backup: keys read by a script in short steps and
 * written as record lines (the file itself: sink.ts; big keys: paging.ts).
 */
export { BackupSink, type RecordSink } from './sink.js';
/** Elements one read script may return in total before it stops (keeps each call short). */
const READ_BUDGET = 5000;

export interface BackupOptions {
  match: string[];
  types: string[];
  count: number;
  signal?: AbortSignal;
  onProgress?: (p: { keys: number; bytes: number }) => void;
}

export interface BackupSummary {
  keys: number;
  records: number;
  bytes: number;
  durationMs: number;
  /** Keys SCAN returned that were gone when read. */
  vanished: number;
  /** Big keys whose length changed while they were paged: their record may mix before and after. */
  changedWhilePaged: { key?: string; key64?: string; db: number }[];
  /** Keys of types this format cannot hold (modules): reported, never silently dropped. */
  unsupported: { key?: string; key64?: string; db: number; type: string }[];
  complete: boolean;
}

/**
 * Reads batches of keys (type, value and expiry together) and writes their
 * records to a sink: the walk of `backup`, and the keys `ttl cleanup
 * --backup` is about to change.
 */
export class KeyBackup {
  readonly summary: BackupSummary = { keys: 0, records: 0, bytes: 0, durationMs: 0, vanished: 0, changedWhilePaged: [], unsupported: [], complete: true };
  private readonly script;
  private readonly legacy: Buffer;
  private readonly out = new LineWriter();
  /** Reads sent and not yet written, oldest first. */
  private readonly queue: { node: NodeHandle; db: number; reads: Promise<PackedRead[]> }[] = [];
  /**
   * Set while backupKeys reads one batch: its records reach the sink only
   * when the whole batch has been read, so a failure midway (say, in the
   * pages of a big key) never leaves a half-written key in an undo file.
   */
  private holding = false;
  /** Keys already sent to be read: SCAN may return a key twice, a backup holds it once. */
  private readonly seen = new KeySet();

  constructor(private readonly target: Target, private readonly sink: RecordSink, private readonly types: string[] = []) {
    this.legacy = Buffer.from(versionAtLeast(target.serverVersion, '7.0.0') ? '0' : '1');
    this.script = loadScript('read-keys-0', target.serverVersion);
  }

  /**
   * Sends the reads of these keys (short scripts of READ_BATCH keys) and
   * writes the records of earlier reads as their replies come: the next read
   * is always sent before a reply is written, so the server reads while we
   * write (see READS_IN_FLIGHT).
   */
  async add(node: NodeHandle, db: number, all: Buffer[]): Promise<void> {
    const names = all.filter((k) => this.seen.add(db, k) === 0);
    for (let i = 0; i < names.length; i += READ_BATCH) {
      const reads = readKeys(node, this.script, [...READ_ARGS, this.legacy, await this.stepBudget(node)], names.slice(i, i + READ_BATCH));
      reads.catch(() => undefined); // awaited in order by writeOldest; a failure surfaces there
      this.queue.push({ node, db, reads });
      if (this.queue.length >= READS_IN_FLIGHT) await this.writeOldest();
    }
  }

  private readonly budgets = new Map<string, Promise<Buffer>>();

  /**
   * How long one read script may run on this node (µs): a third of the node's
   * slowlog-log-slower-than (the rest is for packing the reply, which the
   * script's clock cannot see), so a backup never fills the slowlog an SRE
   * reads for the application's slow commands. Read once per node; where
   * CONFIG is not allowed, the default 10 ms is assumed. A threshold below
   * 1 ms (or off) sets no limit of ours: the element budget keeps calls short.
   */
  private stepBudget(node: NodeHandle): Promise<Buffer> {
    let b = this.budgets.get(node.address);
    if (!b) {
      b = slowlogThresholdUs(node).then((us) => Buffer.from(String(us >= 1000 ? Math.floor(us / 3) : 1_000_000_000)));
      this.budgets.set(node.address, b);
    }
    return b;
  }

  /** Writes the records of every read sent and hands every line to the sink. */
  async drain(): Promise<void> {
    while (this.queue.length) await this.writeOldest();
    await this.handOn();
  }

  private async writeOldest(): Promise<void> {
    const { node, db, reads } = this.queue.shift()!;
    try {
      for (const read of await reads) await this.writeRead(node, db, read);
    } catch (e) {
      // Name the node that failed (a cluster master), not the one we were pointed at.
      throw this.target.failAt(node.address, e);
    }
    if (this.out.size >= LINES_CHUNK) await this.handOn();
  }

  private async handOn(): Promise<void> {
    if (this.out.size === 0 || this.holding) return;
    const { chunk, lines } = this.out.take();
    await this.sink.lines(chunk, lines);
  }

  /** Writes one read script reply's records, straight from its bytes; pages its big keys. */
  private async writeRead(node: NodeHandle, db: number, { names, packed }: PackedRead): Promise<void> {
    const summary = this.summary;
    const out = this.out;
    const r = new PackedReader(packed);
    r.array();
    const handled = r.int();
    const nowMs = r.int();
    for (let i = 0; i < handled; i++) {
      const key = names[i]!; // the script answers for the keys it was given, in order
      const kind = r.int();
      const type = r.isStr() ? r.text() : TYPE_BY_CODE[r.int()] ?? 'none';
      const exp = r.int();
      const expireAtMs = exp >= 0 ? exp : null;
      if (kind === 2) {
        summary.vanished++;
        r.skip();
        continue;
      }
      if (this.types.length > 1 && !this.types.includes(type)) {
        r.skip();
        continue;
      }
      if (!isKeyType(type)) {
        summary.unsupported.push({ ...keyJson(key), db, type });
        r.skip();
        continue;
      }
      summary.keys++;
      if (kind === 1) {
        const base = { key, db, type: type as KeyType, expireAtMs, capturedAtMs: nowMs };
        if (await pageBigKey(node, key, base, r.int(), (rec) => this.record(rec))) summary.changedWhilePaged.push({ ...keyJson(key), db });
        continue;
      }
      out.byte(0x7b);
      out.key(key!, 0, key!.length);
      out.ascii(`,"db":${db},"type":"${type}","expireAtMs":${expireAtMs},"capturedAtMs":${nowMs},"value":`);
      writeValue(out, r, type);
      out.byte(0x7d);
      out.endLine();
    }
  }

  /** A record built as an object (a big key's part), in line with the others. */
  private async record(rec: KeyRecord): Promise<void> {
    this.out.text(recordLine(rec));
    this.out.endLine();
    if (this.out.size >= LINES_CHUNK) await this.handOn();
  }

  /** Backs these keys up and makes sure the records are on disk before returning. */
  async backupKeys(node: NodeHandle, db: number, names: Buffer[]): Promise<void> {
    this.holding = true;
    try {
      await this.add(node, db, names);
      await this.drain();
    } catch (e) {
      // None of these keys has been changed yet: drop what was read of them.
      this.queue.length = 0;
      this.out.take();
      throw e;
    } finally {
      this.holding = false;
    }
    await this.handOn();
    await this.sink.sync?.();
  }

  finish(): BackupSummary {
    this.summary.records = this.sink.records;
    this.summary.bytes = this.sink.byteCount;
    return this.summary;
  }
}

export function backupHeader(target: Target, dbs: number[], match: string[], types: string[]): Header {
  return {
    format: FORMAT, version: FORMAT_VERSION, createdAt: new Date().toISOString(),
    source: { address: target.address, version: target.serverVersion, mode: target.mode },
    dbs, filters: { match, type: types },
  };
}

export async function writeBackup(target: Target, dbs: number[], opts: BackupOptions, sink: RecordSink): Promise<BackupSummary> {
  const started = Date.now();
  await sink.header(backupHeader(target, dbs, opts.match, opts.types));
  const kb = new KeyBackup(target, sink, opts.types);
  const patterns = opts.match.length > 1 ? opts.match.map(globToRegExp) : [];
  await keepIdleTimes(target);
  await forEachDb(target, dbs, async (walkTarget, db) => {
    if (opts.signal?.aborted) return;
    for await (const batch of walkKeys(walkTarget, {
      match: opts.match.length === 1 ? opts.match[0] : undefined,
      type: opts.types.length === 1 ? opts.types[0] : undefined,
      count: opts.count,
      signal: opts.signal,
    })) {
      const node = batch.handle;
      await kb.add(node!, db, batch.keys.map((k) => k.key).filter((k) => keyMatches(k, patterns)));
      opts.onProgress?.({ keys: kb.summary.keys, bytes: sink.byteCount });
      if (opts.signal?.aborted) break;
    }
    if (!opts.signal?.aborted) await kb.drain();
  });
  const summary = kb.finish();
  summary.complete = !opts.signal?.aborted;
  summary.durationMs = Date.now() - started;
  return summary;
}

/**
 * Keys per read script call (each call also stops at READ_BUDGET elements):
 * ~0.7 ms of server time for small keys. Measured on 200k mixed keys, 100
 * keys a call spent 10% more time in per-call overhead.
 */
const READ_BATCH = 250;
/**
 * Read scripts outstanding at once. While the client writes one reply, the
 * server has the next READS_IN_FLIGHT - 1 to run, so neither side waits for
 * the other; another client's command waits behind at most that much (~1.5
 * ms). Deeper queues measured no faster.
 */
const READS_IN_FLIGHT = 3;

/** Copies a small key's value from the reply into its record: the JSON recordLine would give. */
function writeValue(out: LineWriter, r: PackedReader, type: string): void {
  const packed = r.buf;
  if (type === 'string') {
    r.str();
    out.bytes(packed, r.start, r.end);
    return;
  }
  out.byte(0x5b);
  if (type === 'list' || type === 'set') {
    for (let n = r.array(), j = 0; j < n; j++) {
      if (j) out.byte(0x2c);
      r.str();
      out.bytes(packed, r.start, r.end);
    }
  } else {
    // hash and zset: [field, value] / [member, score] pairs; a score is text as Redis prints it.
    for (let n = r.array(), j = 0; j < n; j += 2) {
      out.ascii(j ? ',[' : '[');
      r.str();
      out.bytes(packed, r.start, r.end);
      out.byte(0x2c);
      r.str();
      out.bytes(packed, r.start, r.end);
      out.byte(0x5d);
    }
  }
  out.byte(0x5d);
}

/** One read script reply (MessagePack, see read-keys-0.lua) and the keys it was sent. */
interface PackedRead {
  names: Buffer[];
  packed: Buffer;
}

const READ_ARGS = [Buffer.from(String(CHUNK)), Buffer.from(String(READ_BUDGET))];

/** The node's slowlog-log-slower-than in µs; the default 10 ms where CONFIG is not allowed. */
export async function slowlogThresholdUs(node: NodeHandle): Promise<number> {
  try {
    const reply = (await node.client.call('CONFIG', 'GET', 'slowlog-log-slower-than')) as string[];
    const us = Number(reply[1]);
    return Number.isFinite(us) ? us : 10_000;
  } catch {
    return 10_000;
  }
}

/** Reads a slice of keys with the read script, calling it again for what a budget-limited call left. */
async function readKeys(node: NodeHandle, script: Script, args: Buffer[], names: Buffer[]): Promise<PackedRead[]> {
  const out: PackedRead[] = [];
  let rest = names;
  while (rest.length) {
    const packed = (await runScriptEncoded(node.client, script, [], [...args, ...rest])) as Buffer;
    const r = new PackedReader(packed);
    r.array();
    const handled = r.int();
    out.push({ names: rest, packed });
    rest = rest.slice(handled);
  }
  return out;
}

