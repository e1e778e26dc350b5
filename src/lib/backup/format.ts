import { createHash } from 'node:crypto';
import { InputError } from '../../errors.js';
import { isPlainAscii, keyFromJson, utf8OrNull } from '../keyname.js';
import { KEY_TYPES } from '../keyTypes.js';

/**
 * The backup format: JSON Lines. A header, one record per key (a big key
 * spans several records: `part` counts from 0, `more` says another follows),
 * and a trailer with the record count and a SHA-256 over every line before
 * it, so that truncation and edits are detected. Names are `key` (UTF-8) or
 * `key64` (base64); every other byte string is a JSON string when it is valid
 * UTF-8 and `{"b64": "…"}` otherwise.
 */
export const FORMAT = 'redis-ops-backup';
export const FORMAT_VERSION = 1;

export type Bytes = string | { b64: string };

export interface Header {
  format: typeof FORMAT;
  version: number;
  createdAt: string;
  source: { address: string; version: string | null; mode: string };
  dbs: number[];
  filters: { match: string[]; type: string[] };
}

export interface StreamValue {
  entries: [string, Bytes[]][];
  lastId: string;
  entriesAdded: number | null;
  maxDeletedId: string | null;
  groups: StreamGroup[];
}

export interface StreamGroup {
  name: Bytes;
  lastDeliveredId: string;
  entriesRead: number | null;
  consumers: Bytes[];
  pending: { id: string; consumer: Bytes; deliveryTimeMs: number; deliveryCount: number }[];
}

export type KeyType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream';

export interface KeyRecord {
  key?: string;
  key64?: string;
  db: number;
  type: KeyType;
  /** Absolute expiry (unix ms) or null; the TTL left at backup time is expireAtMs - capturedAtMs. */
  expireAtMs: number | null;
  capturedAtMs: number;
  /** string: Bytes; list/set: Bytes[]; hash: [field, value][]; zset: [member, score][]; stream: StreamValue (last part). */
  value: unknown;
  part?: number;
  more?: boolean;
}

export interface Trailer {
  trailer: true;
  records: number;
  sha256: string;
}

/**
 * One record as a JSON line. Written by hand because it runs once per key:
 * the same text JSON.stringify would give for the fields in this order.
 */
export function recordLine(r: KeyRecord): string {
  const name = r.key !== undefined ? `"key":${JSON.stringify(r.key)}` : `"key64":"${r.key64}"`;
  const part = r.part !== undefined ? `,"part":${r.part},"more":${r.more === true}` : '';
  return `{${name},"db":${r.db},"type":"${r.type}","expireAtMs":${r.expireAtMs},"capturedAtMs":${r.capturedAtMs},"value":${JSON.stringify(r.value)}${part}}`;
}

/** The fields before the value of a line in recordLine's form, read from its bytes. */
export interface RecordHead {
  /** The key's bytes (a view into the line). */
  key: Buffer;
  db: number;
  type: string;
  expireAtMs: number | null;
  capturedAtMs: number;
  /** Where the value begins. */
  valueAt: number;
}

const HEAD_PARTS = ['","db":', ',"type":"', '","expireAtMs":', ',"capturedAtMs":', ',"value":'].map((t) => Buffer.from(t));
const HEAD_TYPES = KEY_TYPES.map((t) => ({ name: t, bytes: Buffer.from(t) }));

/** Whether `part` is at line[p…] (a byte loop: for a few bytes it beats Buffer.compare). */
function at(line: Buffer, p: number, part: Buffer): boolean {
  for (let i = 0; i < part.length; i++) if (line[p + i] !== part[i]) return false;
  return true;
}

/**
 * Reads the head of a record line exactly as recordLine writes it (a UTF-8
 * key without escapes); null for anything else, which is then parsed as
 * JSON. The apply pass of a verified file uses it to skip JSON.parse.
 */
export function recordHead(line: Buffer): RecordHead | null {
  let p = 8; // after {"key":"
  while (p < line.length && line[p] !== 0x22) {
    if (line[p] === 0x5c || line[p]! < 0x20) return null; // an escape (or invalid JSON): parsed instead
    p++;
  }
  const key = line.subarray(8, p);
  const fields: (number | null)[] = [];
  let type = '';
  for (let i = 0; i < HEAD_PARTS.length; i++) {
    const part = HEAD_PARTS[i];
    if (!at(line, p, part!)) return null;
    p += part!.length;
    if (i === HEAD_PARTS.length - 1) break;
    if (i === 1) {
      const t = HEAD_TYPES.find(({ bytes }) => line[p + bytes.length] === 0x22 && at(line, p, bytes));
      if (!t) return null;
      type = t.name;
      p += t.bytes.length;
      continue;
    }
    // An integer, or null (expireAtMs).
    if (line[p] === 0x6e) {
      if (line[p + 1] !== 0x75 || line[p + 2] !== 0x6c || line[p + 3] !== 0x6c) return null;
      fields.push(null);
      p += 4;
      continue;
    }
    let q = p;
    let v = 0;
    while (line[q]! >= 0x30 && line[q]! <= 0x39) v = v * 10 + (line[q++]! - 0x30);
    if (q === p || (line[p] === 0x30 && q > p + 1)) return null; // no digits, or a leading zero (not JSON)
    fields.push(v);
    p = q;
  }
  const [db, expireAtMs, capturedAtMs] = fields;
  if (db === null || db === undefined || capturedAtMs === null || capturedAtMs === undefined) return null;
  return { key, db, type, expireAtMs: expireAtMs ?? null, capturedAtMs, valueAt: p };
}

/** A record with a fixed shape (fast to build); `key64` only for names that are not valid UTF-8. */
export function makeRecord(key: Buffer, db: number, type: KeyType, expireAtMs: number | null, capturedAtMs: number, value: unknown, part?: number, more?: boolean): KeyRecord {
  let name: string | undefined;
  let name64: string | undefined;
  if (isPlainAscii(key)) name = key.toString('latin1');
  else {
    const s = utf8OrNull(key);
    if (s === null) name64 = key.toString('base64');
    else name = s;
  }
  return { key: name, key64: name64, db, type, expireAtMs, capturedAtMs, value, part, more };
}

export function bytesJson(b: Buffer): Bytes {
  if (isPlainAscii(b)) return b.toString('latin1');
  const s = utf8OrNull(b);
  return s === null ? { b64: b.toString('base64') } : s;
}

export function keyOf(r: { key?: string; key64?: string }): Buffer {
  return keyFromJson(r)!;
}

/** Running SHA-256 over the exact lines written (each with its newline). */
export class LineHash {
  private readonly h = createHash('sha256');
  lines = 0;

  /** Several lines at once, already joined with (and ending in) newlines. */
  addChunk(chunk: Buffer, lines: number): void {
    this.h.update(chunk);
    this.lines += lines;
  }

  digest(): string {
    return this.h.digest('hex');
  }
}

// ---- validation (restore, verify, diff) ----

const TYPES: readonly KeyType[] = KEY_TYPES;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const STREAM_ID = /^\d+-\d+$/;
/** A score as a string; "nan" is matched only to be refused by name. */
export const SCORE = /^(-?inf|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan)$/i;

export function decodeBytes(v: unknown, where: string): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v && typeof v === 'object' && typeof (v as { b64?: unknown }).b64 === 'string') {
    const s = (v as { b64: string }).b64;
    if (!B64.test(s) || s.length % 4 !== 0) throw new InputError(`${where}: invalid base64`);
    return Buffer.from(s, 'base64');
  }
  throw new InputError(`${where}: expected a string or {"b64": …}`);
}

/** Checks that a value is a byte string (a string, or valid {"b64"}) without decoding it. */
function checkBytes(v: unknown, where: () => string): void {
  if (typeof v === 'string') return;
  if (v && typeof v === 'object' && typeof (v as { b64?: unknown }).b64 === 'string') {
    const s = (v as { b64: string }).b64;
    if (!B64.test(s) || s.length % 4 !== 0) throw new InputError(`${where()}: invalid base64`);
    return;
  }
  throw new InputError(`${where()}: expected a string or {"b64": …}`);
}

export function parseHeader(line: string, where: string): Header {
  const h = parseJson(line, where) as Partial<Header>;
  if (h.format !== FORMAT) throw new InputError(`${where}: not a redis-ops backup (no "format": "${FORMAT}" header)`);
  if (h.version !== FORMAT_VERSION) throw new InputError(`${where}: format version ${h.version} is not supported (this redis-ops reads version ${FORMAT_VERSION})`);
  if (!Array.isArray(h.dbs) || !h.dbs.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError(`${where}: header "dbs" must list database numbers`);
  return h as Header;
}

export function parseJson(line: string, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new InputError(`${where}: not valid JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${where}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** Checks a record's shape completely, so that a verified file restores without surprises. */
export function validateRecord(r: Record<string, unknown>, where: string): KeyRecord {
  if (typeof r.key !== 'string' && typeof r.key64 !== 'string') throw new InputError(`${where}: record has neither "key" nor "key64"`);
  if (typeof r.key64 === 'string' && (!B64.test(r.key64) || r.key64.length % 4 !== 0)) throw new InputError(`${where}: "key64" is not valid base64`);
  if (!Number.isInteger(r.db) || (r.db as number) < 0) throw new InputError(`${where}: "db" must be a database number`);
  if (!TYPES.includes(r.type as KeyType)) throw new InputError(`${where}: unknown record type ${JSON.stringify(r.type)}`);
  if (r.expireAtMs !== null && !Number.isInteger(r.expireAtMs)) throw new InputError(`${where}: "expireAtMs" must be an integer or null`);
  if (!Number.isInteger(r.capturedAtMs)) throw new InputError(`${where}: "capturedAtMs" must be an integer`);
  if (r.part !== undefined && (!Number.isInteger(r.part) || (r.part as number) < 0)) throw new InputError(`${where}: "part" must be a whole number`);
  if (r.more !== undefined && typeof r.more !== 'boolean') throw new InputError(`${where}: "more" must be true or false`);
  const v = r.value;
  const list = (what: string) => {
    if (!Array.isArray(v)) throw new InputError(`${where}: a ${r.type} value must be a list of ${what}`);
    return v as unknown[];
  };
  switch (r.type as KeyType) {
    case 'string':
      if (typeof v !== 'string') checkBytes(v, () => `${where}: value`);
      break;
    case 'list':
    case 'set':
      list('strings').forEach((x, i) => {
        if (typeof x !== 'string') checkBytes(x, () => `${where}: value[${i}]`);
      });
      break;
    case 'hash':
      list('[field, value] pairs').forEach((p, i) => {
        if (!Array.isArray(p) || p.length !== 2) throw new InputError(`${where}: value[${i}] must be a [field, value] pair`);
        if (typeof p[0] !== 'string') checkBytes(p[0], () => `${where}: value[${i}][0]`);
        if (typeof p[1] !== 'string') checkBytes(p[1], () => `${where}: value[${i}][1]`);
      });
      break;
    case 'zset':
      list('[member, score] pairs').forEach((p, i) => {
        if (!Array.isArray(p) || p.length !== 2) throw new InputError(`${where}: value[${i}] must be a [member, score] pair`);
        if (typeof p[0] !== 'string') checkBytes(p[0], () => `${where}: value[${i}][0]`);
        if (typeof p[1] !== 'string' || !SCORE.test(p[1]) || /nan/i.test(p[1])) throw new InputError(`${where}: value[${i}] score ${JSON.stringify(p[1])} is not a number`);
      });
      break;
    case 'stream':
      validateStream(v, where, r.more === true);
      break;
  }
  return r as unknown as KeyRecord;
}

function validateStream(v: unknown, where: string, partial: boolean): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${where}: a stream value must be an object`);
  const s = v as Partial<StreamValue>;
  if (!Array.isArray(s.entries)) throw new InputError(`${where}: stream "entries" must be a list`);
  s.entries.forEach((e, i) => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !STREAM_ID.test(e[0]) || !Array.isArray(e[1]) || e[1].length % 2 !== 0) {
      throw new InputError(`${where}: stream entry ${i} must be ["<ms>-<seq>", [field, value, …]]`);
    }
    (e[1] as unknown[]).forEach((x, j) => {
      if (typeof x !== 'string') checkBytes(x, () => `${where}: stream entry ${i} field ${j}`);
    });
  });
  if (partial) return; // metadata comes with the last part
  if (typeof s.lastId !== 'string' || !STREAM_ID.test(s.lastId)) throw new InputError(`${where}: stream "lastId" must be an id`);
  if (!Array.isArray(s.groups)) throw new InputError(`${where}: stream "groups" must be a list`);
  s.groups.forEach((g, i) => {
    const w = `${where}: stream group ${i}`;
    if (!g || typeof g !== 'object') throw new InputError(`${w} must be an object`);
    if (typeof g.name !== 'string') checkBytes(g.name, () => `${w} name`);
    if (typeof g.lastDeliveredId !== 'string' || !STREAM_ID.test(g.lastDeliveredId)) throw new InputError(`${w}: "lastDeliveredId" must be an id`);
    if (!Array.isArray(g.consumers) || !Array.isArray(g.pending)) throw new InputError(`${w}: "consumers" and "pending" must be lists`);
    g.consumers.forEach((c, j) => {
      if (typeof c !== 'string') checkBytes(c, () => `${w} consumer ${j}`);
    });
    g.pending.forEach((p, j) => {
      if (!p || typeof p.id !== 'string' || !STREAM_ID.test(p.id) || !Number.isInteger(p.deliveryTimeMs) || !Number.isInteger(p.deliveryCount)) {
        throw new InputError(`${w} pending ${j} must be {"id", "consumer", "deliveryTimeMs", "deliveryCount"}`);
      }
      if (typeof p.consumer !== 'string') checkBytes(p.consumer, () => `${w} pending ${j} consumer`);
    });
  });
}

export function isTrailer(r: Record<string, unknown>): boolean {
  return r.trailer === true;
}
