/**
 * Groups keys by shape: split on the separator, collapse id-like segments to
 * `*`, keep `depth` segments. `user:17:profile` and `user:42:profile` both
 * become `user:*:profile`; with depth 1, `user:*`.
 *
 * This runs for every key of a walk, so segments are classified in one pass
 * over their characters; a regex runs only for word-plus-number segments.
 */
export interface PatternOptions {
  separator: string;
  depth: number;
}

/** A word glued to a number or hex id: file_003, sess-9f2c44aa01, job42. */
const SUFFIXED = /^([A-Za-z][A-Za-z_-]*?[_-]?)(\d{2,}|[0-9a-f]{8,})$/i;

interface Shape {
  digits: number;
  hexLetters: number;
  otherLetters: number;
  tokenOther: number; // _ - + / = .
  other: number;
  /** "@" (counted in other too): a segment with one may be an e-mail address. */
  at: number;
}

function emptyShape(): Shape {
  return { digits: 0, hexLetters: 0, otherLetters: 0, tokenOther: 0, other: 0, at: 0 };
}

/** Counts one character into its class: by its code, so a string's characters and a key's bytes count alike. */
function tally(sh: Shape, c: number): void {
  if (c >= 48 && c <= 57) sh.digits++;
  else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) sh.hexLetters++;
  else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) sh.otherLetters++;
  else if (c === 95 || c === 45 || c === 43 || c === 47 || c === 61 || c === 46) sh.tokenOther++;
  else {
    sh.other++;
    if (c === 64) sh.at++;
  }
}

function shapeOf(s: string): Shape {
  const shape = emptyShape();
  for (let i = 0; i < s.length; i++) tally(shape, s.charCodeAt(i));
  return shape;
}

export function isIdLike(segment: string): boolean {
  if (segment === '') return false;
  return idLike(segment.length, shapeOf(segment), (i) => segment.charCodeAt(i));
}

const UUID_DASHES = [8, 13, 18, 23];

/** By its length, its shape and (for a UUID) where its dashes are: `codeAt` gives a character's code. */
function idLike(length: number, sh: Shape, codeAt: (i: number) => number): boolean {
  if (sh.digits === length) return true;
  if (length === 36 && sh.otherLetters === 0 && sh.other === 0 && sh.tokenOther === 4 && UUID_DASHES.every((i) => codeAt(i) === 45)) return true;
  // Long hex (hashes, object ids) with at least one digit.
  if (length >= 12 && sh.digits > 0 && sh.digits + sh.hexLetters === length) return true;
  // Long random tokens (base64, nanoid): letters and digits mixed.
  return length >= 20 && sh.other === 0 && sh.digits > 0 && sh.hexLetters + sh.otherLetters > 0;
}

/**
 * Values people key by that are not ids by shape alone: IPv4 addresses,
 * dates (2026-11-30), ISO weeks (2026-W48), e-mail addresses, base64url
 * tokens of 16+ characters. (Epoch seconds and milliseconds, 20261130, ULIDs,
 * KSUIDs and long tokens are caught by idLike.)
 */
const VALUE_SHAPES = [
  /^\d{1,3}(\.\d{1,3}){3}$/,
  /^\d{4}-\d{2}-\d{2}$/,
  /^\d{4}-W\d{2}$/,
  /^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$/,
];
const TOKEN = /^(?=.*\d)(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9_-]{16,}$/;

export function generaliseSegment(segment: string): string {
  if (segment === '') return segment;
  // A word (no digit, no "@") stays as it is: the common case, decided without building its shape.
  let plain = true;
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 64) {
      plain = false;
      break;
    }
  }
  if (plain) return segment;
  if (segment.includes('@') && VALUE_SHAPES[3]!.test(segment)) return '*';
  const sh = shapeOf(segment);
  if (sh.digits === 0) return segment; // a word: the common case
  if (idLike(segment.length, sh, (i) => segment.charCodeAt(i))) return '*';
  if (VALUE_SHAPES.some((re) => re.test(segment)) || TOKEN.test(segment)) return '*';
  const m = SUFFIXED.exec(segment);
  if (m && /\d/.test(m[2]!)) return `${m[1]}*`;
  return segment;
}

/**
 * An IPv6 address holds colons, the usual separator. In a key with "::" or
 * seven colons or more, a run of hex groups of 1–4 digits (empty groups for
 * "::") that has a "::" or eight groups, and a digit, is one segment: so
 * `ratelimit:ip:2001:db8::1` is `ratelimit:ip:*`, and `a:b:c` stays words.
 */
function joinIpv6(parts: string[]): string[] {
  const hexGroup = /^[0-9a-fA-F]{0,4}$/;
  const out: string[] = [];
  for (let i = 0; i < parts.length;) {
    let j = i;
    while (j < parts.length && hexGroup.test(parts[j]!)) j++;
    const run = parts.slice(i, j);
    const text = run.join(':');
    const address = run.length >= 3 && /\d/.test(text) && (text.includes('::') || run.length === 8) && !text.includes(':::::');
    if (address) {
      out.push(IPV6_MARK);
      i = j;
    } else {
      out.push(parts[i]!);
      i++;
    }
  }
  return out;
}

export function inferKeyPattern(key: string, opts: PatternOptions): string {
  if (!opts.separator) return generaliseSegment(key);
  // Only keys with "::" or many colons can hold an IPv6 address: the others split as they are.
  const parts = opts.separator === ':' && (key.includes('::') || countOf(key, ':') >= 7)
    ? joinIpv6(key.split(':')).slice(0, opts.depth + 1)
    : key.split(opts.separator, opts.depth + 1);
  const kept: string[] = [];
  for (let i = 0; i < parts.length && i < opts.depth; i++) kept.push(parts[i] === IPV6_MARK ? '*' : generaliseSegment(parts[i]!));
  if (parts.length > opts.depth) kept.push('*');
  // `a:*:*` says no more than `a:*`.
  while (kept.length > 1 && kept[kept.length - 1] === '*' && kept[kept.length - 2] === '*') kept.pop();
  return kept.join(opts.separator);
}

/** Stands for an IPv6 address while the key is split (no key holds a NUL-wrapped word by chance). */
const IPV6_MARK = '\u0000ipv6\u0000';

function countOf(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++;
  return n;
}

const STAR = 42;

/**
 * inferKeyPattern over a key's bytes, written into `out` (its UTF-8 bytes,
 * which for such a key are its text): for a walk of millions of keys, no
 * string per key. Handles the keys whose text is their bytes (printable
 * ASCII, keyText prints them as they are), a one-byte separator and no
 * possible IPv6 address; returns -1 for any other, which the caller sends
 * through inferKeyPattern. Decides the common segments (words, numbers, hex
 * and token ids) from their byte counts and hands the others to
 * generaliseSegment, so the two always agree (a unit test compares them).
 */
export function patternInto(key: Buffer, opts: PatternOptions, out: Buffer): number {
  const len = key.length;
  if (opts.separator.length !== 1 || len + 2 > out.length) return -1;
  const sep = opts.separator.charCodeAt(0);
  let seps = 0;
  let doubled = false;
  for (let i = 0; i < len; i++) {
    const b = key[i]!;
    if (b < 0x20 || b > 0x7e || b === 0x5c) return -1;
    if (b === sep) {
      seps++;
      if (i > 0 && key[i - 1] === sep) doubled = true;
    }
  }
  if (sep === 58 && (doubled || seps >= 7)) return -1;

  let o = 0;
  // The trailing run of "*" segments, collapsed to one at the end (`a:*:*` says no more than `a:*`).
  let runStart = -1;
  let run = 0;
  let segments = 0;
  for (let s = 0; ; segments++) {
    let e = s;
    while (e < len && key[e] !== sep) e++;
    if (segments > 0) out[o++] = sep;
    const from = o;
    if (segments === opts.depth) out[o++] = STAR; // what lies past the depth
    else o = writeSegment(key, s, e, out, o);
    if (o - from === 1 && out[from] === STAR) {
      if (run++ === 0) runStart = from;
    } else run = 0;
    if (segments === opts.depth || e >= len) break;
    s = e + 1;
  }
  if (run >= 2) o = runStart + 1;
  return o;
}

/** One segment of a key, generalised as generaliseSegment would, written at `o`; returns the new end. */
function writeSegment(key: Buffer, s: number, e: number, out: Buffer, o: number): number {
  const sh = emptyShape();
  for (let i = s; i < e; i++) tally(sh, key[i]!);
  if (sh.at === 0) {
    if (sh.digits === 0) {
      // A word, as it is (a loop: Buffer#copy costs more than a short segment).
      for (let i = s; i < e; i++) out[o++] = key[i]!;
      return o;
    }
    if (idLike(e - s, sh, (i) => key[s + i]!)) {
      out[o] = STAR;
      return o + 1;
    }
  }
  // The rarer shapes (dates, addresses, suffixed words): the string rules decide.
  const text = generaliseSegment(key.toString('latin1', s, e));
  return o + out.write(text, o, 'latin1');
}
