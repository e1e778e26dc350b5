import { keyText } from '../keyname.js';
import { inferKeyPattern, patternInto, type PatternOptions } from './pattern.js';

interface Slot<G> {
  db: number;
  /** The pattern's UTF-8 bytes. */
  bytes: Buffer;
  group: G;
  next: Slot<G> | null;
}

/**
 * Groups keyed by database and inferred pattern, found from a key's bytes:
 * the pattern is written into a scratch buffer and looked up by its hash,
 * so the millions of keys of a walk or an RDB file make no string each
 * (a pattern string, and a "db + pattern" key for a Map, cost more than
 * the rest of counting a key).
 */
export class PatternGroups<G> {
  private readonly slots = new Map<number, Slot<G>>();
  private scratch = Buffer.allocUnsafe(256);
  /** In the order they were first seen (the report's order among equals). */
  private readonly list: G[] = [];

  constructor(private readonly opts: PatternOptions) {}

  /** The group of this key's pattern in `db`; `create(pattern)` makes it the first time (null: not tracked, nothing kept). */
  find(key: Buffer, db: number, create: (pattern: string) => G | null): G | null {
    if (key.length + 2 > this.scratch.length) this.scratch = Buffer.allocUnsafe(key.length * 2 + 2);
    const out = this.scratch;
    let n = patternInto(key, this.opts, out);
    let text: string | null = null;
    if (n < 0) {
      text = inferKeyPattern(keyText(key), this.opts);
      const need = Buffer.byteLength(text, 'utf8');
      if (need > out.length) this.scratch = Buffer.allocUnsafe(need * 2);
      n = this.scratch.write(text, 0, 'utf8');
    }
    const bytes = this.scratch;
    // FNV-1a over the pattern, then the database; kept a small integer for the Map.
    let h = 0x811c9dc5 ^ db;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    h &= 0x3fffffff;
    const head = this.slots.get(h);
    for (let s: Slot<G> | null | undefined = head; s; s = s.next) if (s.db === db && sameBytes(s.bytes, bytes, n)) return s.group;
    const group = create(text ?? bytes.toString('utf8', 0, n));
    if (group === null) return null;
    this.slots.set(h, { db, bytes: Buffer.from(bytes.subarray(0, n)), group, next: head ?? null });
    this.list.push(group);
    return group;
  }

  get size(): number {
    return this.list.length;
  }

  values(): readonly G[] {
    return this.list;
  }
}

function sameBytes(a: Buffer, b: Buffer, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
