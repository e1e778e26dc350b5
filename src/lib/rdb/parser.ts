import { lzfDecompress, LzfError } from './lzf.js';
import { decodeIntset, decodeListpack, decodeZiplist, decodeZipmap, listpackCount, PackedError } from './packed.js';
import { Measure } from './memory.js';
import { ByteSource, NEED_MORE } from './source.js';

/**
 * A streaming RDB reader (Redis's rdb.c, RDB versions 1–12, and Valkey's
 * RDB 80): aux fields, databases, expiries, idle/freq, functions, module
 * values and aux data, every object encoding; the CRC-64 checked at the end.
 * Each key is parsed from the buffer synchronously and parsed again after a
 * refill when it did not fit (restart at the key); a key too big for
 * MAX_BUFFERED is read piece by piece (strings in chunks, collections element
 * by element), so memory stays bounded whatever the size of one key.
 */
export class RdbError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

export type RdbValueType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module';

export interface RdbKey {
  db: number;
  /** The name's bytes: a view into the reader's buffer, valid until the next batch is asked for (copy it to keep it). */
  key: Buffer;
  type: RdbValueType;
  /** The encoding in the file (ziplist, listpack, intset, hashtable, skiplist, quicklist, zipmap, linkedlist, stream, the module's name); a string's as the server gives it (int, embstr, raw). */
  encoding: string;
  rdbType: number;
  expireAtMs: number | null;
  /** Elements (a string: its bytes). */
  length: number;
  /** Estimated MEMORY USAGE on a server that loaded it (memory.ts). */
  bytes: number;
  /** File offset of the key's entry. */
  offset: number;
  idleSec: number | null;
  freq: number | null;
}

/** A piece of a key's value, for export: in order, the last with more=false. */
export type ValuePiece =
  | { kind: 'string'; chunk: Buffer }
  | { kind: 'elements'; items: Buffer[] }
  | { kind: 'pairs'; items: [Buffer, Buffer][]; fieldExpiry?: (number | null)[] }
  | { kind: 'zset'; items: [Buffer, number][] }
  | { kind: 'stream'; value: StreamData };

export interface StreamData {
  entries: [string, Buffer[]][];
  lastId: string;
  entriesAdded: number | null;
  maxDeletedId: string | null;
  groups: { name: Buffer; lastDeliveredId: string; entriesRead: number | null; consumers: Buffer[]; pending: { id: string; consumer: Buffer; deliveryTimeMs: number; deliveryCount: number }[] }[];
}

export interface ParseOptions {
  /** Called with each key's value in pieces (export). Without it values are skipped over. */
  onValue?: (key: RdbKey, piece: ValuePiece, more: boolean) => Promise<void> | void;
  /** Which keys need their value (export of a filtered set); default all. */
  wantValue?: (key: RdbKey) => boolean;
  /** A key bigger than this is read in pieces (default 16 MB; the tests make it small to take that path on every key). */
  maxBuffered?: number;
}

export interface RdbSummary {
  version: number;
  magic: 'REDIS' | 'VALKEY';
  aux: Record<string, string>;
  keys: number;
  /** Empty collections, which Redis skips when it loads the file. */
  emptySkipped: number;
  modules: Record<string, number>;
  functions: number;
  checksum: 'verified' | 'absent' | 'not stored';
  bytesRead: number;
}

/** Keys (or pieces of one) are read with this much buffered at most. */
const MAX_BUFFERED = 16 << 20;
/** Elements per piece of a big value; bytes per piece of a big string. */
const PIECE = 1000;
/** A collection of more elements than this is read element by element from the start (never re-parsed whole after each refill). */
const BIG_COUNT = 10_000;
/** Types a report reads without async steps (reportKey). */
const SYNC_TYPES = new Set([0, 16, 17, 18, 20]);
const STRING_PIECE = 1 << 20;
const SUPPORTED_REDIS = 12;
const VALKEY_VERSIONS = [80];

const OP = { SLOT_INFO: 244, FUNCTION2: 245, FUNCTION_PRE_GA: 246, MODULE_AUX: 247, IDLE: 248, FREQ: 249, AUX: 250, RESIZEDB: 251, EXPIRETIME_MS: 252, EXPIRETIME: 253, SELECTDB: 254, EOF: 255 };

const TYPES: Record<number, { type: RdbValueType; encoding: string }> = {
  0: { type: 'string', encoding: 'string' }, 1: { type: 'list', encoding: 'linkedlist' }, 2: { type: 'set', encoding: 'hashtable' },
  3: { type: 'zset', encoding: 'skiplist' }, 4: { type: 'hash', encoding: 'hashtable' }, 5: { type: 'zset', encoding: 'skiplist' },
  7: { type: 'module', encoding: 'module' }, 9: { type: 'hash', encoding: 'zipmap' }, 10: { type: 'list', encoding: 'ziplist' },
  11: { type: 'set', encoding: 'intset' }, 12: { type: 'zset', encoding: 'ziplist' }, 13: { type: 'hash', encoding: 'ziplist' },
  14: { type: 'list', encoding: 'quicklist' }, 15: { type: 'stream', encoding: 'stream' }, 16: { type: 'hash', encoding: 'listpack' },
  17: { type: 'zset', encoding: 'listpack' }, 18: { type: 'list', encoding: 'quicklist' }, 19: { type: 'stream', encoding: 'stream' },
  20: { type: 'set', encoding: 'listpack' }, 21: { type: 'stream', encoding: 'stream' },
};
/** Redis 7.4's hashes with field expiry (RDB 12); Valkey 9 numbers its own differently (22: HASH_2). */
const REDIS_HFE: Record<number, { type: RdbValueType; encoding: string }> = {
  22: { type: 'hash', encoding: 'hashtable' }, 23: { type: 'hash', encoding: 'listpack' },
  24: { type: 'hash', encoding: 'hashtable' }, 25: { type: 'hash', encoding: 'listpack' },
};

type Len = { len: number; special: number | null };

export class RdbParser {
  private version = 0;
  private magic: 'REDIS' | 'VALKEY' = 'REDIS';
  private db = 0;
  private readonly aux: Record<string, string> = {};
  private readonly modules: Record<string, number> = {};
  private functions = 0;
  private keys = 0;
  private checksum: RdbSummary['checksum'] = 'absent';
  private emptySkipped = 0;

  private readonly maxBuffered: number;

  constructor(private readonly src: ByteSource, private readonly opts: ParseOptions = {}) {
    this.maxBuffered = opts.maxBuffered ?? MAX_BUFFERED;
  }

  private fail(message: string, at = this.src.offset): RdbError {
    return new RdbError(at, `${this.src.name}: offset ${at}: ${message}`);
  }

  /** Every key, in file order; the summary is ready when the iteration ends. */
  async *keysOf(): AsyncGenerator<RdbKey> {
    for await (const batch of this.batchesOf()) yield* batch;
  }

  /**
   * The keys in batches: one step of an async generator per key would cost
   * more than reading most keys does.
   */
  async *batchesOf(): AsyncGenerator<RdbKey[]> {
    let batch: RdbKey[] = [];
    // Keys are views into the source's buffer until a refill reuses it: the batch not yet handed out keeps copies.
    let owned = 0;
    this.src.beforeReuse = () => {
      for (; owned < batch.length; owned++) batch[owned]!.key = Buffer.from(batch[owned]!.key);
    };
    await this.header();
    let expireAtMs: number | null = null;
    let idleSec: number | null = null;
    let freq: number | null = null;
    for (;;) {
      const start = this.src.pos;
      const startOffset = this.src.offset;
      let op: number;
      try {
        op = this.src.u8();
      } catch (e) {
        if (e !== NEED_MORE) throw e;
        if (!(await this.src.fill())) throw this.fail('the file ends before its EOF marker (truncated)');
        continue;
      }
      if (op === OP.EOF) {
        await this.trailer();
        if (batch.length) yield batch;
        return;
      }
      try {
        if (op === OP.SELECTDB) { this.db = this.len('database number'); continue; }
        if (op === OP.RESIZEDB) { this.len('db size'); this.len('expires size'); continue; }
        if (op === OP.EXPIRETIME_MS) { expireAtMs = Number(this.src.bytes(8).readBigInt64LE()); continue; }
        if (op === OP.EXPIRETIME) { expireAtMs = this.src.bytes(4).readInt32LE() * 1000; continue; }
        if (op === OP.IDLE) { idleSec = this.len('idle time'); continue; }
        if (op === OP.FREQ) { freq = this.src.u8(); continue; }
        if (op === OP.AUX) { const k = this.string(); const v = this.string(); this.aux[k.toString('latin1')] = v.toString('latin1'); continue; }
        if (op === OP.SLOT_INFO) { this.len('slot'); this.len('slot size'); this.len('expires slot size'); continue; }
        if (op === OP.FUNCTION2) { this.string(); this.functions++; continue; }
        if (op === OP.FUNCTION_PRE_GA) throw this.fail('a function library in the Redis 7.0 release-candidate format (opcode 246): not supported', startOffset);
        if (op === OP.MODULE_AUX) { this.moduleValue(this.moduleId(), true); continue; }
      } catch (e) {
        if (e !== NEED_MORE) throw this.wrap(e, startOffset);
        this.src.pos = start;
        if (!(await this.src.fill())) throw this.fail('the file ends inside an opcode (truncated)', startOffset);
        continue;
      }
      const t = this.typeOf(op, startOffset);
      const k = await this.entry(op, t, start, startOffset, expireAtMs, idleSec, freq);
      expireAtMs = null;
      idleSec = null;
      freq = null;
      if (isEmptyCollection(k)) {
        this.emptySkipped++;
        continue;
      }
      this.keys++;
      batch.push(k);
      if (batch.length >= 512) {
        yield batch;
        batch = [];
        owned = 0;
      }
    }
  }

  summary(): RdbSummary {
    return { version: this.version, magic: this.magic, aux: this.aux, keys: this.keys, emptySkipped: this.emptySkipped, modules: this.modules, functions: this.functions, checksum: this.checksum, bytesRead: this.src.offset };
  }

  private typeOf(op: number, at: number): { type: RdbValueType; encoding: string } {
    if (this.magic === 'VALKEY' && op === 22) return { type: 'hash', encoding: 'hashtable' };
    const t = TYPES[op] ?? (this.magic === 'REDIS' && this.version >= 12 ? REDIS_HFE[op] : undefined);
    if (!t) throw this.fail(`unknown opcode or value type ${op} (RDB ${this.version})`, at);
    return t;
  }

  private async header(): Promise<void> {
    if (!(await this.src.ensure(9))) throw this.fail('not an RDB file: shorter than its 9-byte header', 0);
    const head = this.src.bytes(9).toString('latin1');
    let version: number;
    if (head.startsWith('REDIS') && /^\d{4}$/.test(head.slice(5))) {
      version = Number(head.slice(5));
      if (version < 1 || version > SUPPORTED_REDIS) throw this.fail(`RDB version ${version} is newer than this reader knows (Redis RDB 1–${SUPPORTED_REDIS}, Valkey ${VALKEY_VERSIONS.join(', ')})`, 5);
    } else if (head.startsWith('VALKEY') && /^\d{3}$/.test(head.slice(6))) {
      version = Number(head.slice(6));
      this.magic = 'VALKEY';
      if (!VALKEY_VERSIONS.includes(version)) throw this.fail(`Valkey RDB version ${version} is not one this reader knows (${VALKEY_VERSIONS.join(', ')})`, 6);
    } else throw this.fail(`not an RDB file: it starts with ${JSON.stringify(head.replace(/[^\x20-\x7e]/g, '.'))}, not REDIS or VALKEY and a version`, 0);
    this.version = version;
  }

  private async trailer(): Promise<void> {
    if (this.version < 5) { this.checksum = 'absent'; return; }
    const computed = this.src.checksum();
    if (!(await this.src.ensure(8))) throw this.fail('the file ends inside its checksum (truncated)');
    const stored = this.src.bytes(8);
    if (stored.every((b) => b === 0)) this.checksum = 'not stored';
    else if (!stored.equals(computed)) throw this.fail(`checksum mismatch: the file says ${stored.readBigUInt64LE().toString(16)}, its bytes give ${computed.readBigUInt64LE().toString(16)} (corrupt or edited)`, this.src.offset - 8);
    else this.checksum = 'verified';
    if (await this.src.ensure(1)) throw this.fail('bytes after the checksum');
  }

  private wrap(e: unknown, at: number): Error {
    if (e instanceof RdbError) return e;
    if (e instanceof PackedError || e instanceof LzfError || e instanceof RangeError) return this.fail(`corrupt value: ${(e as Error).message}`, at);
    return e as Error;
  }

  // --- primitives (synchronous; NEED_MORE past the buffer) ---

  private lenOrSpecial(): Len {
    const b = this.src.u8();
    const kind = b >> 6;
    if (kind === 0) return { len: b & 0x3f, special: null };
    if (kind === 1) return { len: ((b & 0x3f) << 8) | this.src.u8(), special: null };
    if (kind === 3) return { len: 0, special: b & 0x3f };
    if (b === 0x80) return { len: this.src.bytes(4).readUInt32BE(), special: null };
    if (b === 0x81) {
      const n = this.src.bytes(8).readBigUInt64BE();
      // A signed field saved as a length (a group's entries_read, -1 when unknown) comes back as 2^64 - 1.
      if (n === 0xffffffffffffffffn) return { len: -1, special: null };
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`a length of ${n}: corrupt`);
      return { len: Number(n), special: null };
    }
    throw this.fail(`bad length byte 0x${b.toString(16)}`);
  }

  /** A module type id: 64 bits (nine 6-bit characters and a version), past a JS number's exact range. */
  private moduleId(): bigint {
    const b = this.src.u8();
    if (b === 0x81) return this.src.bytes(8).readBigUInt64BE();
    this.src.pos--;
    return BigInt(this.len('module id'));
  }

  private len(what: string, signed = false): number {
    const l = this.lenOrSpecial();
    if (l.special !== null) throw this.fail(`an encoded value where a length (${what}) was expected`);
    if (l.len < 0 && !signed) throw this.fail(`a length (${what}) of 2^64 - 1: corrupt`);
    return l.len;
  }

  /** A whole string (integers as their text, LZF decompressed). */
  private string(limit = this.maxBuffered): Buffer {
    const at = this.src.offset;
    const l = this.lenOrSpecial();
    if (l.special === null) {
      if (l.len > limit) throw new BigValue(l.len);
      return this.src.bytes(l.len);
    }
    if (l.special === 0) return Buffer.from(String(this.src.bytes(1).readInt8()), 'latin1');
    if (l.special === 1) return Buffer.from(String(this.src.bytes(2).readInt16LE()), 'latin1');
    if (l.special === 2) return Buffer.from(String(this.src.bytes(4).readInt32LE()), 'latin1');
    if (l.special === 3) {
      const clen = this.len('compressed length');
      const ulen = this.len('uncompressed length');
      // Past the limit, the value goes out in parts (it is still decompressed whole, once).
      if (ulen > limit) throw new BigValue(ulen);
      if (ulen > 2 ** 40) throw this.fail(`an LZF string of ${ulen} bytes: corrupt`, at);
      const packed = this.src.bytes(clen);
      return lzfDecompress(packed, ulen, () => `${this.src.name}: offset ${at}`);
    }
    throw this.fail(`unknown string encoding ${l.special}`, at);
  }

  /** A string's length without keeping it (stats and scan skip values). */
  private skipString(): number {
    const l = this.lenOrSpecial();
    const src = this.src;
    if (l.special === null) { src.skip(l.len); return l.len; }
    if (l.special === 0) { src.skip(1); return String(src.buf.readInt8(src.pos - 1)).length; }
    if (l.special === 1) { src.skip(2); return String(src.buf.readInt16LE(src.pos - 2)).length; }
    if (l.special === 2) { src.skip(4); return String(src.buf.readInt32LE(src.pos - 4)).length; }
    if (l.special === 3) { const clen = this.len('compressed length'); const ulen = this.len('uncompressed length'); src.skip(clen); return ulen; }
    throw this.fail(`unknown string encoding ${l.special}`);
  }

  private doubleText(): number {
    const n = this.src.u8();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    return Number(this.src.bytes(n).toString('latin1'));
  }

  private millis(): number {
    return Number(this.src.bytes(8).readBigInt64LE());
  }

  // --- one key ---

  private async entry(op: number, t: { type: RdbValueType; encoding: string }, keyStart: number, offset: number, expireAtMs: number | null, idleSec: number | null, freq: number | null): Promise<RdbKey> {
    let start = keyStart;
    for (;;) {
      try {
        // Most keys are strings, read for their size only (stats, scan): no async steps for them.
        if (!this.opts.onValue && SYNC_TYPES.has(op)) return this.reportKey(op, t, offset, expireAtMs, idleSec, freq);
        if (op === 0) {
          // Export: a string is read whole (up to the buffer's limit) and handed over at once.
          const { k, value } = this.stringEntry(offset, expireAtMs, idleSec, freq, true);
          if (this.opts.wantValue?.(k) ?? true) await this.opts.onValue!(k, { kind: 'string', chunk: value! }, false);
          return k;
        }
        return await this.readKey(op, t, offset, expireAtMs, idleSec, freq, false);
      } catch (e) {
        if (e !== NEED_MORE && !(e instanceof BigValue)) throw this.wrap(e, offset);

        // Restart the key after a refill; past MAX_BUFFERED, read it in pieces.
        this.src.pos = start + 1;
        if (e === NEED_MORE && this.src.buf.length - start < this.maxBuffered) {
          this.src.pos = start;
          if (!(await this.src.fill())) throw this.fail('the file ends inside a key (truncated)', offset);
          // The refill dropped what was before the key: it starts at the new position.
          start = this.src.pos;
          this.src.pos += 1;
          continue;
        }
        return this.readKey(op, t, offset, expireAtMs, idleSec, freq, true);
      }
    }
  }

  /**
   * A listpack hash, sorted set or set, or a quicklist of listpack nodes, for
   * a report: the count from the headers, the size from the blobs, no async
   * step (most keys of a 7.x file are these or strings).
   */
  private reportKey(op: number, t: { type: RdbValueType; encoding: string }, offset: number, expireAtMs: number | null, idleSec: number | null, freq: number | null): RdbKey {
    if (op === 0) return this.stringEntry(offset, expireAtMs, idleSec, freq, false).k;
    const key = this.string();
    const mem = new Measure(t.type, t.encoding);
    mem.keyLen = key.length;
    let length = 0;
    if (op === 18) {
      const nodes = this.len('quicklist nodes');
      if (nodes > BIG_COUNT) throw new BigValue(nodes);
      for (let i = 0; i < nodes; i++) {
        const container = this.len('quicklist container');
        const b = container === 1 ? null : this.string(Number.MAX_SAFE_INTEGER);
        const n = b ? listpackCount(b) ?? decodeListpack(b).length : 1;
        if (!b) mem.blob(this.skipString());
        else if (n) mem.blob(b.length);
        if (n) mem.nodes++;
        length += n;
      }
    } else {
      const b = this.string(Number.MAX_SAFE_INTEGER);
      const n = listpackCount(b) ?? decodeListpack(b).length;
      const per = op === 20 ? 1 : 2;
      if (n % per) throw this.fail(`a listpack of ${n} entries where each element takes ${per}`, offset);
      length = n / per;
      mem.blob(b.length);
    }
    mem.elements = length;
    return { db: this.db, key, type: t.type, encoding: t.encoding, rdbType: op, expireAtMs, length, bytes: mem.bytes(), offset, idleSec, freq };
  }

  /**
   * A string key read whole from the buffer: its size and encoding for a
   * report, and its bytes too when `keep` (export). A string past the buffer's
   * limit throws BigValue and is read in pieces by ValueReader instead.
   */
  private stringEntry(offset: number, expireAtMs: number | null, idleSec: number | null, freq: number | null, keep: boolean): { k: RdbKey; value: Buffer | null } {
    const key = this.string();
    const head = this.src.buf[this.src.pos];
    if (head === undefined) throw NEED_MORE;
    const value = keep ? this.string() : null;
    const n = value ? value.length : this.skipString();
    const encodedInt = head >> 6 === 3 && (head & 0x3f) <= 2;
    const mem = new Measure('string', 'string');
    mem.keyLen = key.length;
    mem.stringLen = n;
    // A plain string of up to 20 digits may still be integer-encoded once loaded.
    mem.stringIsInt = encodedInt || (n <= 20 && head >> 6 !== 3 && (value ? isIntText(value) : isIntBytes(this.src.buf, this.src.pos - n, this.src.pos)));
    const encoding = mem.stringIsInt ? 'int' : n <= 44 ? 'embstr' : 'raw';
    return { k: { db: this.db, key, type: 'string', encoding, rdbType: 0, expireAtMs, length: n, bytes: mem.bytes(), offset, idleSec, freq }, value };
  }

  private async readKey(op: number, t: { type: RdbValueType; encoding: string }, offset: number, expireAtMs: number | null, idleSec: number | null, freq: number | null, piecewise: boolean): Promise<RdbKey> {
    // Read in pieces, the key outlives refills: a copy.
    const key = piecewise ? Buffer.from(await this.await(() => this.string())) : this.string();
    const k: RdbKey = { db: this.db, key, type: t.type, encoding: t.encoding, rdbType: op, expireAtMs, length: 0, bytes: 0, offset, idleSec, freq };
    const sink = this.opts.onValue && (this.opts.wantValue?.(k) ?? true) ? this.opts.onValue : null;
    const mem = new Measure(t.type, t.encoding);
    mem.keyLen = key.length;
    // Pieces of a key read in one go are held until it is complete: a key
    // that turns out not to fit is read again, and must not be emitted twice.
    const held: [ValuePiece, boolean][] = [];
    const emit: Emit = sink ? (piecewise ? (piece, more) => sink(k, piece, more) : (piece, more) => { held.push([piece, more]); }) : null;
    const v = new ValueReader(this, this.src, piecewise, emit, mem);
    await v.read(op, k);
    if (k.type === 'string') k.encoding = mem.stringIsInt ? 'int' : mem.stringLen <= 44 ? 'embstr' : 'raw';
    mem.encoding = k.encoding;
    k.bytes = mem.bytes();
    // Redis skips an empty collection when it loads the file ("skipping empty key"): so does the reader.
    if (isEmptyCollection(k)) return k;
    for (const [piece, more] of held) await sink!(k, piece, more);
    if (k.type === 'module') this.modules[k.encoding] = (this.modules[k.encoding] ?? 0) + 1;
    return k;
  }

  /** Runs a synchronous read, refilling until it fits (piecewise mode). */
  async await<T>(fn: () => T): Promise<T> {
    for (;;) {
      const at = this.src.pos;
      try {
        return fn();
      } catch (e) {
        if (e !== NEED_MORE) throw e;
        this.src.pos = at;
        if (!(await this.src.fill())) throw this.fail('the file ends inside a value (truncated)');
      }
    }
  }

  // Exposed to ValueReader.
  readLen = (what: string, signed = false) => this.len(what, signed);
  readString = (limit?: number) => this.string(limit);
  readSkipString = () => this.skipString();
  readDoubleText = () => this.doubleText();
  readMillis = () => this.millis();
  failAt = (m: string) => this.fail(m);
  get isValkey(): boolean { return this.magic === 'VALKEY'; }

  /** A module value (type 7) or module aux data: skipped opcode by opcode, named by its module id. */
  readModuleId = () => this.moduleId();

  moduleValue(id: bigint, aux: boolean): string {
    const name = moduleName(id);
    // Aux data: when_opcode (UINT) and when (before or after the keyspace), then the value.
    if (aux) {
      if (this.len('module aux when-opcode') !== 2) throw this.fail(`module ${name}: aux data without its "when" field`);
      this.len('module aux when');
    }
    for (;;) {
      const opcode = this.len('module opcode');
      if (opcode === 0) break;
      if (opcode === 1 || opcode === 2) this.len('module integer');
      else if (opcode === 3) this.src.bytes(4);
      else if (opcode === 4) this.src.bytes(8);
      else if (opcode === 5) this.skipString();
      else throw this.fail(`module ${name}: unknown value opcode ${opcode}`);
    }
    return name;
  }
}

/** A value larger than the buffer allows: the key is read again in pieces. */
class BigValue {
  constructor(readonly size: number) {}
}

const MODULE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A module type id: nine 6-bit characters and a 10-bit encoding version (module.c moduleTypeNameByID). */
function moduleName(id: bigint): string {
  let big = id >> 10n;
  let name = '';
  for (let i = 0; i < 9; i++) {
    name = MODULE_CHARSET[Number(big & 63n)]! + name;
    big >>= 6n;
  }
  return name;
}

type Emit = ((piece: ValuePiece, more: boolean) => Promise<void> | void) | null;

/** Reads one value, in one go or piece by piece, emitting it when asked and measuring it for the memory model. */
class ValueReader {
  constructor(private readonly p: RdbParser, private readonly src: ByteSource, private readonly piecewise: boolean, private readonly emit: Emit, private readonly mem: Measure) {}

  private run<T>(fn: () => T): Promise<T> | T {
    return this.piecewise ? this.p.await(fn) : fn();
  }

  async read(op: number, k: RdbKey): Promise<void> {
    switch (op) {
      case 0: return this.stringValue(k);
      case 1: return this.elements(k);
      case 2: return this.elements(k);
      case 3: case 5: return this.zset(k, op === 5);
      case 4: return this.hash(k, 'plain');
      case 7: {
        // One step: the id and the value are read again together after a refill.
        const name = await this.run(() => this.p.moduleValue(this.p.readModuleId(), false));
        k.encoding = name;
        return this.emit ? this.p.failAt(`module value of ${name}: cannot be exported (no module here to read it)`) as never : undefined;
      }
      case 9: return this.packedPairs(k, decodeZipmap, 'pairs');
      case 10: return this.packedList(k, decodeZiplist);
      case 11: return this.packedList(k, decodeIntset);
      case 12: return this.packedPairs(k, decodeZiplist, 'zset');
      case 13: return this.packedPairs(k, decodeZiplist, 'pairs');
      case 14: case 18: return this.quicklist(k, op === 18);
      case 15: case 19: case 21: return this.stream(k, op === 15 ? 1 : op === 19 ? 2 : 3);
      case 16: return this.packedPairs(k, decodeListpack, 'pairs');
      case 17: return this.packedPairs(k, decodeListpack, 'zset');
      case 20: return this.packedList(k, decodeListpack);
      case 22: return this.p.isValkey ? this.hash(k, 'valkey') : this.hash(k, 'meta-pre-ga');
      case 23: return this.hashListpackEx(k, false);
      case 24: return this.hash(k, 'meta');
      case 25: return this.hashListpackEx(k, true);
      default: throw this.p.failAt(`value type ${op}`);
    }
  }

  /** A string too big to read whole (RdbParser.stringEntry reads the others). */
  private async stringValue(k: RdbKey): Promise<void> {
    // A big string: its length first, then the bytes in pieces. An LZF one
    // is decompressed whole (it is held compressed, then as its parts).
    const head = await this.p.await(() => {
      const b = this.src.u8();
      if (b >> 6 !== 3) {
        this.src.pos--;
        return { lzf: false, len: this.p.readLen('string length'), clen: 0 };
      }
      if ((b & 0x3f) !== 3) throw this.p.failAt('a big value with an integer encoding');
      const clen = this.p.readLen('compressed length');
      return { lzf: true, len: this.p.readLen('uncompressed length'), clen };
    });
    const l = head.len;
    k.length = l;
    this.measureString(l, false);
    if (head.lzf) {
      if (!(await this.src.ensure(head.clen))) throw this.p.failAt('the file ends inside a string (truncated)');
      const at = this.src.offset;
      const whole = lzfDecompress(this.src.bytes(head.clen), l, () => `${this.src.name}: offset ${at}`);
      for (let i = 0; i < l || i === 0; i += STRING_PIECE) {
        if (this.emit) await this.emit({ kind: 'string', chunk: whole.subarray(i, Math.min(l, i + STRING_PIECE)) }, i + STRING_PIECE < l);
        if (l === 0) break;
      }
      return;
    }
    // Parts of STRING_PIECE bytes (the last shorter), whatever sizes the input arrives in.
    let left = l;
    while (left > 0) {
      const want = Math.min(left, STRING_PIECE);
      const got: Buffer[] = [];
      let have = 0;
      while (have < want) {
        if (this.src.available === 0 && !(await this.src.fill())) throw this.p.failAt('the file ends inside a string (truncated)');
        const n = Math.min(want - have, this.src.available);
        got.push(Buffer.from(this.src.bytes(n)));
        have += n;
      }
      left -= want;
      if (this.emit) await this.emit({ kind: 'string', chunk: got.length === 1 ? got[0]! : Buffer.concat(got) }, left > 0);
    }
  }

  private measureString(len: number, isInt: boolean): void {
    this.mem.stringLen = len;
    this.mem.stringIsInt = isInt;
  }

  /** list (linked list) and set (hashtable): a count, then strings. */
  private async elements(k: RdbKey): Promise<void> {
    const n = await this.run(() => this.p.readLen('element count'));
    if (!this.piecewise && n > BIG_COUNT) throw new BigValue(n);
    k.length = n;
    this.mem.elements = n;
    let batch: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      if (this.emit) {
        const s = await this.run(() => this.p.readString());
        batch.push(this.piecewise ? Buffer.from(s) : s);
        this.mem.element(s.length, s);
        if (batch.length >= PIECE) { await this.emit({ kind: 'elements', items: batch }, true); batch = []; }
      } else this.mem.element(await this.run(() => this.p.readSkipString()));
    }
    if (this.emit) await this.emit({ kind: 'elements', items: batch }, false);
  }

  private async zset(k: RdbKey, binary: boolean): Promise<void> {
    const n = await this.run(() => this.p.readLen('member count'));
    if (!this.piecewise && n > BIG_COUNT) throw new BigValue(n);
    k.length = n;
    this.mem.elements = n;
    let batch: [Buffer, number][] = [];
    for (let i = 0; i < n; i++) {
      const [m, score] = await this.run((): [Buffer, number] => {
        const member = this.p.readString();
        const sc = binary ? this.src.bytes(8).readDoubleLE() : this.p.readDoubleText();
        return [member, sc];
      });
      this.mem.element(m.length, m);
      this.mem.packedOnly(Buffer.from(String(score), 'latin1'));
      if (this.emit) {
        batch.push([this.piecewise ? Buffer.from(m) : m, score]);
        if (batch.length >= PIECE) { await this.emit({ kind: 'zset', items: batch }, true); batch = []; }
      }
    }
    if (this.emit) await this.emit({ kind: 'zset', items: batch }, false);
  }

  /** Hashes: plain (4), Redis 7.4 with field expiry (24, 22 pre-GA) and Valkey 9 (22). */
  private async hash(k: RdbKey, form: 'plain' | 'meta' | 'meta-pre-ga' | 'valkey'): Promise<void> {
    const minExpire = form === 'meta' ? await this.run(() => this.p.readMillis()) : 0;
    const n = await this.run(() => this.p.readLen('field count'));
    if (!this.piecewise && n > BIG_COUNT) throw new BigValue(n);
    k.length = n;
    this.mem.elements = n;
    let batch: [Buffer, Buffer][] = [];
    let expiries: (number | null)[] = [];
    const withExpiry = form !== 'plain';
    for (let i = 0; i < n; i++) {
      const [f, v, exp] = await this.run((): [Buffer, Buffer, number | null] => {
        let e: number | null = null;
        if (form === 'meta' || form === 'meta-pre-ga') {
          const ttl = this.p.readLen('field expiry');
          e = ttl === 0 ? null : form === 'meta' ? ttl + minExpire - 1 : ttl;
        }
        const field = this.p.readString();
        const value = this.p.readString();
        if (form === 'valkey') {
          const t = this.p.readMillis();
          e = t === -1 ? null : t;
        }
        return [field, value, e];
      });
      this.mem.element(f.length, f);
      this.mem.element(v.length, v);
      if (this.emit) {
        batch.push(this.piecewise ? [Buffer.from(f), Buffer.from(v)] : [f, v]);
        expiries.push(exp);
        if (batch.length >= PIECE) {
          await this.emit({ kind: 'pairs', items: batch, ...(withExpiry ? { fieldExpiry: expiries } : {}) }, true);
          batch = [];
          expiries = [];
        }
      }
    }
    if (this.emit) await this.emit({ kind: 'pairs', items: batch, ...(withExpiry ? { fieldExpiry: expiries } : {}) }, false);
  }

  private async blob(): Promise<Buffer> {
    return this.run(() => this.p.readString(Number.MAX_SAFE_INTEGER));
  }

  /**
   * A listpack read only for a report (no export): its count from the header;
   * its memory is its size, so the elements need not be decoded.
   */
  private counted(k: RdbKey, b: Buffer, decode: (b: Buffer) => Buffer[], per: number): boolean {
    if (this.emit || decode !== decodeListpack) return false;
    const n = listpackCount(b);
    if (n === null) return false;
    if (n % per) throw this.p.failAt(`a listpack of ${n} entries where each element takes ${per}`);
    k.length = n / per;
    this.mem.elements = k.length;
    this.mem.blob(b.length);
    return true;
  }

  private async packedList(k: RdbKey, decode: (b: Buffer) => Buffer[]): Promise<void> {
    const b = await this.blob();
    if (this.counted(k, b, decode, 1)) return;
    const items = decode(b);
    k.length = items.length;
    this.mem.elements = items.length;
    this.mem.blob(b.length);
    for (const x of items) this.mem.element(x.length, x);
    if (this.emit) await this.emitChunks(items, (c, more) => this.emit!({ kind: 'elements', items: c }, more));
  }

  /** A hash (field, value) or a sorted set (member, score) in one packed blob. */
  private async packedPairs(k: RdbKey, decode: (b: Buffer) => Buffer[], kind: 'pairs' | 'zset'): Promise<void> {
    const b = await this.blob();
    if (this.counted(k, b, decode, 2)) return;
    const flat = decode(b);
    if (flat.length % 2) throw this.p.failAt(`a ${kind === 'zset' ? 'sorted-set' : 'hash'} blob with an odd number of entries`);
    k.length = flat.length / 2;
    this.mem.elements = k.length;
    this.mem.blob(b.length);
    for (const x of flat) this.mem.element(x.length, x);
    if (!this.emit) return;
    if (kind === 'pairs') await this.emitChunks(pairs(flat), (c, more) => this.emit!({ kind, items: c }, more));
    else await this.emitChunks(pairs(flat).map(([m, s]) => [m, scoreOf(s)] as [Buffer, number]), (c, more) => this.emit!({ kind, items: c }, more));
  }

  /** Redis 7.4 listpack hashes with field expiry: triplets field, value, expiry (0: none). */
  private async hashListpackEx(k: RdbKey, withMin: boolean): Promise<void> {
    if (withMin) await this.run(() => this.p.readMillis());
    const b = await this.blob();
    const flat = decodeListpack(b);
    if (flat.length % 3) throw this.p.failAt('a hash listpack with field expiry whose entries are not triplets');
    const items: [Buffer, Buffer][] = [];
    const exp: (number | null)[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      items.push([flat[i]!, flat[i + 1]!]);
      const e = Number(flat[i + 2]!.toString('latin1'));
      exp.push(e === 0 ? null : e);
    }
    k.length = items.length;
    this.mem.elements = items.length;
    this.mem.blob(b.length);
    for (const [f, v] of items) { this.mem.element(f.length, f); this.mem.element(v.length, v); }
    if (this.emit) await this.emit({ kind: 'pairs', items, fieldExpiry: exp }, false);
  }

  private async quicklist(k: RdbKey, v2: boolean): Promise<void> {
    const nodes = await this.run(() => this.p.readLen('quicklist nodes'));
    if (!this.piecewise && nodes > BIG_COUNT) throw new BigValue(nodes);
    let total = 0;
    for (let i = 0; i < nodes; i++) {
      const container = v2 ? await this.run(() => this.p.readLen('quicklist container')) : 2;
      if (container === 1) {
        // A plain node: one element, possibly big.
        let size: number;
        if (this.emit) {
          const s = await this.blob();
          await this.emit({ kind: 'elements', items: [this.piecewise ? Buffer.from(s) : s] }, i + 1 < nodes);
          size = s.length;
        } else size = await this.run(() => this.p.readSkipString());
        this.mem.element(size);
        this.mem.blob(size);
        this.mem.nodes++;
        total++;
        continue;
      }
      const b = await this.blob();
      // A report needs a v2 node's count only (its header has it), an export its elements.
      const count = v2 && !this.emit ? listpackCount(b) : null;
      const items = count === null ? (v2 ? decodeListpack(b) : decodeZiplist(b)) : null;
      const n = count ?? items!.length;
      // An empty node is skipped, as Redis does when it loads one.
      if (!n) continue;
      total += n;
      this.mem.nodes++;
      this.mem.blob(b.length);
      if (this.emit && items) await this.emit({ kind: 'elements', items: this.piecewise ? items.map((x) => Buffer.from(x)) : items }, i + 1 < nodes);
    }
    if (this.emit && nodes === 0) await this.emit({ kind: 'elements', items: [] }, false);
    k.length = total;
    this.mem.elements = total;
  }

  private async stream(k: RdbKey, version: 1 | 2 | 3): Promise<void> {
    const data: StreamData = { entries: [], lastId: '0-0', entriesAdded: null, maxDeletedId: null, groups: [] };
    const nodes = await this.run(() => this.p.readLen('stream nodes'));
    let count = 0;
    for (let i = 0; i < nodes; i++) {
      const [master, lp] = await this.run((): [Buffer, Buffer] => [this.p.readString(), this.p.readString(Number.MAX_SAFE_INTEGER)]);
      if (master.length !== 16) throw this.p.failAt(`a stream node key of ${master.length} bytes (16 expected)`);
      this.mem.blob(lp.length);
      const entries = streamEntries(master, decodeListpack(lp));
      count += entries.length;
      if (this.emit) data.entries.push(...entries.map(([id, fields]): [string, Buffer[]] => [id, this.piecewise ? fields.map((f) => Buffer.from(f)) : fields]));
    }
    const meta = await this.run(() => {
      const length = this.p.readLen('stream length');
      const last = `${this.p.readLen('last id ms')}-${this.p.readLen('last id seq')}`;
      let added: number | null = null;
      let maxDeleted: string | null = null;
      if (version >= 2) {
        this.p.readLen('first id ms'); this.p.readLen('first id seq');
        maxDeleted = `${this.p.readLen('max deleted ms')}-${this.p.readLen('max deleted seq')}`;
        added = this.p.readLen('entries added');
      }
      return { length, last, added, maxDeleted };
    });
    if (meta.length !== count) throw this.p.failAt(`a stream of ${meta.length} entries whose nodes hold ${count}`);
    data.lastId = meta.last;
    data.entriesAdded = meta.added;
    data.maxDeletedId = meta.maxDeleted;
    const groups = await this.run(() => this.p.readLen('consumer groups'));
    for (let g = 0; g < groups; g++) {
      const group = await this.run(() => {
        const name = Buffer.from(this.p.readString());
        const lastDeliveredId = `${this.p.readLen('group last id ms')}-${this.p.readLen('group last id seq')}`;
        const read = version >= 2 ? this.p.readLen('entries read', true) : -1;
        const entriesRead = read < 0 ? null : read;
        return { name, lastDeliveredId, entriesRead, consumers: [] as Buffer[], pending: [] as StreamData['groups'][number]['pending'] };
      });
      const pel = await this.run(() => this.p.readLen('group PEL size'));
      const deliveries = new Map<string, { time: number; count: number }>();
      for (let j = 0; j < pel; j++) {
        const [id, time, n] = await this.run((): [string, number, number] => [streamId(this.src.bytes(16)), this.p.readMillis(), this.p.readLen('delivery count')]);
        deliveries.set(id, { time, count: n });
      }
      const consumers = await this.run(() => this.p.readLen('consumers'));
      for (let c = 0; c < consumers; c++) {
        const name = await this.run(() => {
          const nm = Buffer.from(this.p.readString());
          this.p.readMillis(); // seen time
          if (version >= 3) this.p.readMillis(); // active time
          return nm;
        });
        group.consumers.push(name);
        const owned = await this.run(() => this.p.readLen('consumer PEL size'));
        for (let j = 0; j < owned; j++) {
          const id = await this.run(() => streamId(this.src.bytes(16)));
          const d = deliveries.get(id);
          if (!d) throw this.p.failAt(`consumer PEL entry ${id} is not in its group's PEL`);
          group.pending.push({ id, consumer: name, deliveryTimeMs: d.time, deliveryCount: d.count });
        }
      }
      data.groups.push(group);
      this.mem.groups++;
      this.mem.pending += pel;
    }
    k.length = count;
    this.mem.elements = count;
    this.mem.nodes = nodes;
    if (this.emit) await this.emit({ kind: 'stream', value: data }, false);
  }

  private async emitChunks<T>(items: T[], out: (chunk: T[], more: boolean) => Promise<void> | void): Promise<void> {
    if (!items.length) return out([], false);
    for (let i = 0; i < items.length; i += PIECE) await out(items.slice(i, i + PIECE), i + PIECE < items.length);
  }
}

/** A score as a packed encoding stores it: its text ("inf" and "-inf" included). */
function scoreOf(text: Buffer): number {
  const s = text.toString('latin1').toLowerCase();
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  const n = Number(s);
  if (Number.isNaN(n)) throw new PackedError(`a sorted-set score "${s.slice(0, 40)}" that is not a number`);
  return n;
}

function isEmptyCollection(k: RdbKey): boolean {
  return k.length === 0 && (k.type === 'list' || k.type === 'set' || k.type === 'zset' || k.type === 'hash');
}

function pairs(flat: Buffer[]): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function streamId(b: Buffer): string {
  return `${b.readBigUInt64BE(0)}-${b.readBigUInt64BE(8)}`;
}

const STREAM_ITEM_FLAG_DELETED = 1;
const STREAM_ITEM_FLAG_SAMEFIELDS = 2;

/**
 * The entries of one stream listpack (t_stream.c): a master entry (count,
 * deleted, the master fields, a 0), then per entry: flags, ms and seq
 * relative to the node key, the values (same fields as the master) or the
 * fields and values, and the entry's lp-count. Deleted entries are left out.
 */
function streamEntries(master: Buffer, items: Buffer[]): [string, Buffer[]][] {
  const baseMs = master.readBigUInt64BE(0);
  const baseSeq = master.readBigUInt64BE(8);
  let i = 0;
  const next = (): Buffer => {
    const x = items[i++];
    if (x === undefined) throw new PackedError('a stream listpack ends inside an entry');
    return x;
  };
  const int = () => Number(next().toString('latin1'));
  const count = int();
  const deleted = int();
  const nFields = int();
  const fields: Buffer[] = [];
  for (let f = 0; f < nFields; f++) fields.push(next());
  if (int() !== 0) throw new PackedError('a stream master entry without its 0 terminator');
  const out: [string, Buffer[]][] = [];
  for (let e = 0; e < count + deleted; e++) {
    const flags = int();
    const ms = baseMs + BigInt(next().toString('latin1'));
    const seq = baseSeq + BigInt(next().toString('latin1'));
    const kv: Buffer[] = [];
    if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) for (const f of fields) kv.push(f, next());
    else {
      const n = int();
      for (let f = 0; f < n; f++) kv.push(next(), next());
    }
    next(); // lp-count
    if (!(flags & STREAM_ITEM_FLAG_DELETED)) out.push([`${ms}-${seq}`, kv]);
  }
  if (i !== items.length) throw new PackedError(`a stream listpack with ${items.length - i} entries past its last`);
  return out;
}

/** isIntText over a range of a buffer, without making a view when the first byte rules it out. */
function isIntBytes(buf: Buffer, start: number, end: number): boolean {
  const c = buf[start];
  if (c === undefined || !((c >= 0x30 && c <= 0x39) || c === 0x2d)) return false;
  return isIntText(buf.subarray(start, end));
}

/** A string Redis would store integer-encoded (string2ll round-trips, at most 20 bytes). */
function isIntText(b: Buffer): boolean {
  if (b.length === 0 || b.length > 20) return false;
  const s = b.toString('latin1');
  if (!/^-?[1-9]\d*$/.test(s) && s !== '0') return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}
