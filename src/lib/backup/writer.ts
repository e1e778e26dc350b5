import { createWriteStream, fsync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { createGzip, type Gzip } from 'node:zlib';
import { UsageError } from '../../errors.js';
import { forEachDb } from '../connect/dbs.js';
import type { NodeHandle, Target } from '../connect/target.js';
import { keepIdleTimes, versionAtLeast } from '../connect/target.js';
import { globToRegExp, keyMatches } from '../glob.js';
import { keyJson } from '../keyname.js';
import { walkKeys } from '../scan/walk.js';
import { loadScript, runScriptEncoded, type Script } from '../scripts/loader.js';
import type { OutputPlace } from '../outputPath.js';
import { KeySet } from './keySet.js';
import { isKeyType, LENGTH_COMMAND, TYPE_BY_CODE } from '../keyTypes.js';
import { LINES_CHUNK, LineWriter } from './lineWriter.js';
import { PackedReader } from './packedReader.js';
import { bytesJson, FORMAT, FORMAT_VERSION, LineHash, makeRecord, recordLine, type Bytes, type Header, type KeyRecord, type KeyType, type StreamGroup } from './format.js';

/** Elements per record of a big key, and per page read from the server. */
export const CHUNK = 1000;
/** Elements one read script may return in total before it stops (keeps each call short). */
const READ_BUDGET = 5000;
/** Bytes of a big string per record. */
const STRING_CHUNK = 1 << 20;

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

/** Where records go: a backup file, or (for diff) a digest per key. */
export interface RecordSink {
  header(h: Header): Promise<void>;
  /** Complete record lines (each ending in a newline), as LineWriter builds them. */
  lines(chunk: Buffer, count: number): Promise<void>;
  /** Everything recorded so far is on disk (for callers about to change what they recorded). */
  sync?(): Promise<void>;
  readonly records: number;
  readonly byteCount: number;
}

/**
 * Where a backup goes: a new regular file written under a temporary name
 * (renamed when complete), a FIFO or device written into directly, or stdout.
 */
export class BackupSink implements RecordSink {
  private readonly hash = new LineHash();
  private bytes = 0;
  private readonly stream: WriteStream | NodeJS.WriteStream;
  private readonly gzip: Gzip | null;
  private readonly tmp: string | null;
  private readonly path: string;

  /** `place` comes from outputPlace: the caller has decided whether an existing file may be replaced. */
  constructor(place: OutputPlace, gzip: boolean, stdout: NodeJS.WriteStream = process.stdout) {
    this.gzip = gzip ? createGzip({ level: 6 }) : null;
    if (place.kind === 'stdout') {
      this.path = '-';
      this.tmp = null;
      this.stream = stdout;
      // The reader left: fail the writes waiting on gzip too, instead of waiting for ever.
      if (this.gzip) stdout.once('error', (e) => this.gzip!.destroy(e));
    } else if (place.kind === 'special') {
      this.path = place.path;
      this.tmp = null;
      this.stream = createWriteStream(place.path, { flags: 'w', highWaterMark: 1 << 22 });
    } else {
      this.path = place.path;
      this.tmp = `${place.path}.partial-${process.pid}`;
      // Backups hold secrets: owner-only from the first byte; wx: never through a link.
      // A deep buffer: the walk goes on while the file system catches up.
      this.stream = createWriteStream(this.tmp, { mode: 0o600, flags: 'wx', highWaterMark: 1 << 22 });
    }
    if (this.gzip) this.gzip.pipe(this.stream as NodeJS.WritableStream);
  }

  async open(): Promise<void> {
    if (this.path === '-') return;
    const s = this.stream as WriteStream;
    await new Promise<void>((resolve, reject) => {
      s.once('open', () => resolve());
      s.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`-o: cannot write ${this.path} (${e.code ?? e.message})`)));
    });
  }

  get records(): number {
    return this.hash.lines - 1; // minus the header
  }

  get byteCount(): number {
    return this.bytes;
  }

  async header(h: Header): Promise<void> {
    await this.lines(Buffer.from(`${JSON.stringify(h)}\n`), 1);
  }

  async lines(chunk: Buffer, count: number): Promise<void> {
    this.hash.addChunk(chunk, count);
    this.bytes += chunk.length;
    const w = (this.gzip ?? this.stream) as NodeJS.WritableStream;
    if (!w.write(chunk)) await once(w as unknown as NodeJS.EventEmitter, 'drain');
  }

  /**
   * Puts every record so far on disk: through gzip (a sync flush), through
   * the file stream, then fsync. `ttl cleanup --backup` calls it before it
   * changes the keys it has just backed up, so a crash never loses one.
   */
  async sync(): Promise<void> {
    if (this.gzip) await new Promise<void>((resolve) => this.gzip!.flush(() => resolve()));
    await new Promise<void>((resolve, reject) => (this.stream as NodeJS.WritableStream).write('', (e?: Error | null) => (e ? reject(e) : resolve())));
    const fd = this.path !== '-' ? (this.stream as unknown as { fd?: number }).fd : null;
    if (typeof fd === 'number') await new Promise<void>((resolve) => fsync(fd, () => resolve()));
  }

  /** Writes the trailer, flushes, and moves the file to its final name. */
  async finish(): Promise<void> {
    const records = this.records;
    const text = JSON.stringify({ trailer: true, records, sha256: this.hash.digest() });
    const w = (this.gzip ?? this.stream) as NodeJS.WritableStream;
    this.bytes += Buffer.byteLength(text) + 1;
    w.write(`${text}\n`);
    if (this.path !== '-') {
      await new Promise<void>((resolve, reject) => {
        this.stream.once('error', reject);
        this.stream.once('finish', () => resolve());
        w.end();
      });
      if (this.tmp) renameSync(this.tmp, this.path);
    } else {
      // Wait until the trailer has left: a reader that is gone by now makes the backup incomplete.
      await new Promise<void>((resolve, reject) => {
        if (this.gzip) {
          this.gzip.once('error', reject);
          this.gzip.end(() => this.stream.write('', (e?: Error | null) => (e ? reject(e) : resolve())));
        } else this.stream.write('', (e?: Error | null) => (e ? reject(e) : resolve()));
      });
    }
  }

  /** Where the finished backup is: the file's name, or - for stdout. */
  get destination(): string {
    return this.path;
  }

  /** An interrupted or failed backup leaves nothing at the final name (nor a partial file). */
  abort(): void {
    if (this.path === '-') return;
    (this.stream as WriteStream).destroy();
    if (this.tmp) rmSync(this.tmp, { force: true });
  }
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


interface Base {
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
async function pageBigKey(node: NodeHandle, key: Buffer, base: Base, length: number, record: (r: KeyRecord) => Promise<void>): Promise<boolean> {
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
