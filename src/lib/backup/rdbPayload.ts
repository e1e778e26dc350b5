import { InputError } from '../../errors.js';
import { SCORE, type KeyRecord, type RecordHead } from './format.js';
import { Crc64 } from '../rdb/crc64.js';

/**
 * Builds the payloads RESTORE takes (what DUMP returns): the value in the
 * RDB object encoding, then the RDB version (2 bytes) and a CRC-64 over both
 * (8 bytes, little-endian). Only the plain encodings every server since 2.x
 * loads are written (string, list, set, zset with textual scores, hash);
 * the server converts them to its compact encodings itself as it loads,
 * exactly as if the elements had been added one by one. One RESTORE is far
 * cheaper for the server than EXISTS + the type's write command + PEXPIREAT.
 */
const RDB_STRING = 0;
const RDB_LIST = 1;
const RDB_SET = 2;
const RDB_ZSET = 3;
const RDB_HASH = 4;
/**
 * RESTORE refuses payloads newer than the server's own RDB version, and the
 * types written here are older than RDB 6 (Redis 2.6, which brought RESTORE):
 * every server loads them.
 */
const RDB_VERSION = 6;

/** Redis's crc64(0, buf[start..end)), written little-endian at buf[end..end+8). */
function writeCrc64(buf: Buffer, start: number, end: number): void {
  const crc = new Crc64();
  crc.update(buf, start, end);
  crc.digest().copy(buf, end);
}

/** A byte string of the backup format: a JSON string (its UTF-8 bytes) or {"b64"}. */
type Bytes = string | { b64: string };

/**
 * A batch of restores, packed as one MessagePack array (the "raw" string
 * types Redis's Lua cmsgpack decodes): the payloads, then per key its kind
 * and ttl ("s<ttl>": the payload is a string's bytes, for SET; "r<ttl>": a
 * RESTORE payload). Strings skip RESTORE because one SET … NX PXAT does the
 * work of EXISTS + RESTORE at half the server's cost. Payloads are written
 * straight into one buffer, no intermediate Buffer per value.
 */
export class DumpBatch {
  buf = Buffer.allocUnsafe(1 << 16);
  at = 5; // room for the array header
  private readonly metas: string[] = [];
  /** Elements so far (a bound on the script's work). */
  values = 0;

  /** Adds a key from a parsed record: ttl is the RESTORE ttl argument (0: none). Duplicate elements keep the last, as the write commands would. */
  add(r: KeyRecord, ttl: number): void {
    const start = this.open();
    this.value(r);
    this.close(start, r.type === 'string', ttl);
  }

  /**
   * Adds a key straight from its record line, as redis-ops writes it (its
   * head read by recordHead), without parsing it into objects: the passes
   * over a verified file. False (and nothing added) when the value is not in
   * the plain form this reads or the line goes on after it (a big key's
   * part): the caller parses the line instead. `commit` or `discard` follows
   * a success.
   */
  addLine(line: Buffer, head: RecordHead): boolean {
    const mark = this.at;
    const marks = this.values;
    const start = this.open();
    const end = new JsonTranscoder(this, line).value(head.valueAt, head.type);
    if (end !== line.length - 1 || line[end] !== 0x7d) {
      this.at = mark;
      this.values = marks;
      return false;
    }
    this.pending = { mark, marks, start, string: head.type === 'string' };
    return true;
  }

  private pending: { mark: number; marks: number; start: number; string: boolean } | null = null;

  commit(ttl: number): void {
    this.close(this.pending!.start, this.pending!.string, ttl);
    this.pending = null;
  }

  /**
   * After a string's addLine: its value's bytes instead of a commit (valid
   * until the next add), the batch left as it was before the line.
   */
  takeString(): Buffer {
    const { mark, marks, start } = this.pending!;
    const value = this.buf.subarray(start, this.at);
    this.at = mark;
    this.values = marks;
    this.pending = null;
    return value;
  }

  discard(): void {
    this.at = this.pending!.mark;
    this.values = this.pending!.marks;
    this.pending = null;
  }

  /** The MessagePack array, ready to send (the buffer is not reused afterwards). */
  finish(): Buffer {
    for (const text of this.metas) {
      this.ensure(text.length + 1);
      this.buf[this.at++] = 0xa0 | text.length;
      this.at += this.buf.write(text, this.at, 'latin1');
    }
    this.buf[0] = 0xdd;
    this.buf.writeUInt32BE(this.metas.length * 2, 1);
    return this.buf.subarray(0, this.at);
  }

  /** Starts a payload: a str32 whose length close() fills in. */
  private open(): number {
    this.ensure(5);
    this.buf[this.at] = 0xdb;
    this.at += 5;
    return this.at;
  }

  private close(start: number, string: boolean, ttl: number): void {
    if (!string && this.at > start) {
      this.ensure(10);
      this.buf.writeUInt16LE(RDB_VERSION, this.at);
      this.at += 2;
      writeCrc64(this.buf, start, this.at);
      this.at += 8;
    }
    // An empty collection (a key cannot hold one) travels as an empty payload: nothing to write.
    this.buf.writeUInt32BE(this.at - start, start - 4);
    this.metas.push(`${string ? 's' : 'r'}${ttl}`);
  }

  private value(r: KeyRecord): void {
    switch (r.type) {
      case 'string':
        this.bytes(r.value as Bytes, false);
        return;
      case 'list': {
        const v = r.value as Bytes[];
        if (!v.length) return;
        this.byte(RDB_LIST);
        this.length(v.length);
        for (const x of v) this.bytes(x);
        this.values += v.length;
        return;
      }
      case 'set': {
        const v = unique(r.value as Bytes[], (x) => x);
        if (!v.length) return;
        this.byte(RDB_SET);
        this.length(v.length);
        for (const x of v) this.bytes(x);
        this.values += v.length;
        return;
      }
      case 'hash': {
        const v = unique(r.value as [Bytes, Bytes][], (p) => p[0]);
        if (!v.length) return;
        this.byte(RDB_HASH);
        this.length(v.length);
        for (const [f, x] of v) {
          this.bytes(f);
          this.bytes(x);
        }
        this.values += 2 * v.length;
        return;
      }
      case 'zset': {
        const v = unique(r.value as [Bytes, string][], (p) => p[0]);
        if (!v.length) return;
        this.byte(RDB_ZSET);
        this.length(v.length);
        for (const [m, score] of v) {
          this.bytes(m);
          this.score(score);
        }
        this.values += 2 * v.length;
        return;
      }
      default:
        throw new Error(`no RESTORE payload for type ${r.type}`);
    }
  }

  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n + (1 << 16)));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.at++] = b;
  }

  /** RDB length encoding (rdbSaveLen): 6, 14, 32 or 64 bits. */
  length(n: number): void {
    this.ensure(9);
    const b = this.buf;
    if (n < 64) b[this.at++] = n;
    else if (n < 16384) {
      b[this.at++] = 0x40 | (n >> 8);
      b[this.at++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      b[this.at++] = 0x80;
      b.writeUInt32BE(n, this.at);
      this.at += 4;
    } else {
      b[this.at++] = 0x81;
      b.writeBigUInt64BE(BigInt(n), this.at);
      this.at += 8;
    }
  }

  /** A byte string, after its RDB length unless `prefixed` is false. */
  private bytes(v: Bytes, prefixed = true): void {
    if (typeof v === 'string') {
      const len = Buffer.byteLength(v);
      if (prefixed) this.length(len);
      this.ensure(len);
      this.at += this.buf.write(v, this.at, 'utf8');
    } else {
      const raw = Buffer.from(v.b64, 'base64');
      if (prefixed) this.length(raw.length);
      this.ensure(raw.length);
      this.at += raw.copy(this.buf, this.at);
    }
  }

  /** A score as RDB_TYPE_ZSET stores it: its text, or the codes for ±inf (the loader parses the text with strtod, as ZADD does). */
  score(s: string): void {
    const lower = s.toLowerCase();
    if (lower === 'inf' || lower === '+inf') this.byte(254);
    else if (lower === '-inf') this.byte(255);
    else {
      if (s.length > 252) throw new InputError(`score ${JSON.stringify(s.slice(0, 40))}… is too long`);
      this.byte(s.length);
      this.ensure(s.length);
      this.at += this.buf.write(s, this.at, 'latin1');
    }
  }
}

/**
 * The elements with duplicate names removed, keeping the last (as SADD,
 * HSET and ZADD would): the RDB loader rejects duplicates. Backups written
 * by redis-ops have none; a file edited or made by another tool might.
 */
function unique<T>(items: T[], name: (x: T) => Bytes): T[] {
  if (items.length < 2) return items;
  const seen = new Map<string, number>();
  for (let i = 0; i < items.length; i++) seen.set(identity(name(items[i]!)), i);
  if (seen.size === items.length) return items;
  const keep = new Set(seen.values());
  return items.filter((_, i) => keep.has(i));
}

/** The same bytes give the same identity, whichever way the file spelled them. */
function identity(v: Bytes): string {
  if (typeof v === 'string') return `s${v}`;
  const raw = Buffer.from(v.b64, 'base64');
  const text = raw.toString('utf8');
  return Buffer.byteLength(text) === raw.length && Buffer.from(text).equals(raw) ? `s${text}` : `b${v.b64}`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const TYPE_BYTE: Record<string, number> = { string: RDB_STRING, list: RDB_LIST, set: RDB_SET, zset: RDB_ZSET, hash: RDB_HASH };
const ESCAPES: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };

/**
 * Writes a record's JSON value as a RESTORE payload, byte by byte. Reads only
 * what JSON.stringify writes for plain strings (no \u escapes, no
 * whitespace, no {"b64"}): anything else returns -1 and the line is parsed.
 * What it accepts is valid JSON of a valid record, so verification uses it
 * too (and parses only what it refuses).
 */
class JsonTranscoder {
  constructor(private readonly out: DumpBatch, private readonly s: Buffer) {}

  value(p: number, type: string): number {
    const t = TYPE_BYTE[type];
    if (t === undefined) return -1;
    if (t === RDB_STRING) return this.str(p, false);
    this.out.byte(t);
    const s = this.s;
    if (s[p] !== OPEN) return -1;
    p++;
    const out = this.out;
    // Lengths are written in the 32-bit form (valid RDB, filled in at the end): the count is known only then.
    out.ensure(5);
    const lengthAt = out.at;
    out.buf[out.at] = 0x80;
    out.at += 5;
    let n = 0;
    const names: number[] = [];
    if (s[p] === CLOSE) p++;
    else {
      for (;;) {
        if (t === RDB_LIST || t === RDB_SET) {
          if (t === RDB_SET) names.push(p);
          p = this.str(p);
        } else {
          if (s[p] !== OPEN) return -1;
          names.push(p + 1);
          p = this.str(p + 1);
          if (p < 0 || s[p] !== COMMA) return -1;
          p = t === RDB_ZSET ? this.score(p + 1) : this.str(p + 1);
          if (p < 0 || s[p] !== CLOSE) return -1;
          p++;
        }
        if (p < 0) return -1;
        n++;
        if (s[p] === COMMA) p++;
        else if (s[p] === CLOSE) {
          p++;
          break;
        } else return -1;
      }
    }
    if (n === 0) {
      // An empty collection: no payload at all (see close()).
      out.at = lengthAt - 1;
      return p;
    }
    if (names.length > 1 && this.duplicates(names)) return -1;
    out.buf.writeUInt32BE(n, lengthAt + 1);
    out.values += t === RDB_HASH || t === RDB_ZSET ? 2 * n : n;
    return p;
  }

  /** A JSON string at p, as an RDB string (or its bare bytes); returns the position after it. */
  private str(p: number, prefixed = true): number {
    const s = this.s;
    if (s[p] !== QUOTE) return -1;
    const from = p + 1;
    let q = from;
    let escapes = 0;
    for (;;) {
      const c = s[q];
      if (c === QUOTE) break;
      if (c !== undefined && c < 0x20) return -1; // not valid JSON: the parser reports it
      if (c === BACKSLASH) {
        if (ESCAPES[s[q + 1]!] === undefined) return -1;
        escapes++;
        q += 2;
      } else if (c === undefined) return -1;
      else q++;
    }
    const out = this.out;
    const len = q - from - escapes;
    if (prefixed) out.length(len);
    out.ensure(len);
    if (escapes === 0) out.at += s.copy(out.buf, out.at, from, q);
    else {
      const b = out.buf;
      let at = out.at;
      for (let i = from; i < q; i++) {
        const c = s[i]!;
        if (c === BACKSLASH) b[at++] = ESCAPES[s[++i]!]!;
        else b[at++] = c;
      }
      out.at = at;
    }
    return q + 1;
  }

  private score(p: number): number {
    const s = this.s;
    if (s[p] !== QUOTE) return -1;
    const end = s.indexOf(QUOTE, p + 1);
    if (end < 0) return -1;
    const text = s.toString('latin1', p + 1, end);
    // Not a number (or nan): the parsing path names the problem.
    if (!SCORE.test(text) || text.toLowerCase() === 'nan') return -1;
    this.out.score(text);
    return end + 1;
  }

  /** Duplicate names (their JSON text: JSON.stringify spells equal strings alike) send the line to the parsing path, which keeps the last. */
  private duplicates(starts: number[]): boolean {
    const s = this.s;
    const seen = new Set<string>();
    for (const p of starts) {
      let q = p + 1;
      while (s[q] !== QUOTE) q += s[q] === BACKSLASH ? 2 : 1;
      seen.add(s.toString('latin1', p, q));
    }
    return seen.size !== starts.length;
  }
}
