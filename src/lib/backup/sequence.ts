import { InputError } from '../../errors.js';
import { keyText } from '../keyname.js';
import { KeySet } from './keySet.js';
import type { StreamValue } from './format.js';

/** The latest instant a record may name (the largest a JavaScript Date holds; Redis's own limit is far beyond any real expiry). */
export const MAX_TIME_MS = 8_640_000_000_000_000;

/**
 * What no single record shows, checked across the records of a file in
 * order, so that a verified file restores exactly: the parts of a big key
 * come in order, of one type, and end; a key appears once; stream ids
 * ascend across parts and the last id is not below them; times are in
 * range. Verify and restore both run it, so they agree on every file.
 */
export class RecordSequence {
  private readonly keys: KeySet | null;

  /** `duplicates: false` for a pass over a file whose first pass already checked them (its checksum is checked again at the end). */
  constructor({ duplicates = true } = {}) {
    this.keys = duplicates ? new KeySet() : null;
  }
  private open: { key: Buffer; db: number; type: string; next: number; lastEntry: string | null } | null = null;

  /**
   * One record: its key bytes, db, type and times; part/more for a big
   * key's records; a stream's value, whose entry ids must ascend from the
   * key's earlier parts and whose lastId (on the last part) must not be
   * below them (XADD and XSETID would refuse both, after other keys were
   * written).
   */
  record(where: string, lineNo: number, r: { key: Buffer; db: number; type: string; expireAtMs: number | null; capturedAtMs: number; part?: number; more?: boolean }, stream?: Partial<StreamValue>): void {
    checkTime(where, 'expireAtMs', r.expireAtMs);
    checkTime(where, 'capturedAtMs', r.capturedAtMs);
    const open = this.open;
    let lastEntry: string | null = null;
    if (r.part === undefined || r.part === 0) {
      if (open) throw new InputError(`${where}: key "${keyText(open.key)}": part ${open.next} is missing`);
      const first = this.keys?.add(r.db, r.key, lineNo);
      if (first) throw new InputError(`${where}: ${keyName(r.key)} in db ${r.db} again (first on line ${first})`);
    } else {
      if (!open) throw new InputError(`${where}: part ${r.part} of ${keyName(r.key)} without its part 0`);
      if (!open.key.equals(r.key) || open.db !== r.db) {
        throw new InputError(`${where}: part ${r.part} of ${keyName(r.key)}, but key "${keyText(open.key)}" is not finished (part ${open.next} expected)`);
      }
      if (r.type !== open.type) throw new InputError(`${where}: ${keyName(r.key)}: part ${r.part} is a ${r.type}, part 0 a ${open.type}`);
      if (r.part < open.next) throw new InputError(`${where}: ${keyName(r.key)}: part ${r.part} again (expected part ${open.next})`);
      if (r.part > open.next) throw new InputError(`${where}: ${keyName(r.key)}: part ${r.part} where part ${open.next} was expected`);
      lastEntry = open.lastEntry;
    }
    if (stream) lastEntry = checkStreamIds(where, stream, lastEntry, !r.more);
    if (r.more) this.open = { key: Buffer.from(r.key), db: r.db, type: r.type, next: (r.part ?? 0) + 1, lastEntry };
    else this.open = null;
  }

  /** At the trailer: no big key may be left unfinished. */
  end(where: string): void {
    if (this.open) throw new InputError(`${where}: key "${keyText(this.open.key)}": the file ends before its last part (part ${this.open.next} is missing)`);
  }
}

function checkStreamIds(where: string, value: Partial<StreamValue>, prev: string | null, last: boolean): string | null {
  let top = prev;
  (value.entries ?? []).forEach(([id], i) => {
    if (top !== null && compareIds(id, top) <= 0) throw new InputError(`${where}: stream entry ${i} id ${id} is not after ${top}`);
    top = id;
  });
  if (last && top !== null && typeof value.lastId === 'string' && compareIds(value.lastId, top) < 0) {
    throw new InputError(`${where}: stream "lastId" ${value.lastId} is below the last entry ${top}`);
  }
  return top;
}

function checkTime(where: string, field: string, v: number | null): void {
  if (v !== null && (v < 0 || v > MAX_TIME_MS)) throw new InputError(`${where}: "${field}" ${v} is out of range (0 to ${MAX_TIME_MS})`);
}

/** Compares stream ids "ms-seq" as the numbers they are (either part may exceed 2^53). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  return compareDigits(am!, bm!) || compareDigits(as!, bs!);
}

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A key as messages name it (built only for a message: this runs for every record). */
function keyName(key: Buffer): string {
  return `key "${keyText(key)}"`;
}
