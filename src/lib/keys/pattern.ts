/**
 * Groups keys by shape: split on the separator, collapse id-like segments to
 * `*`, keep `depth` segments. `user:17:profile` and `user:42:profile` both
 * become `user:*:profile`; with depth 1, `user:*`.
 */
export interface PatternOptions {
  separator: string;
  depth: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{12,}$/i;
const DIGITS = /^\d+$/;
const TOKEN = /^[A-Za-z0-9_\-+/=.]{20,}$/;
/** A word glued to a number or hex id: file_003, sess-9f2c44aa01, job42. */
const SUFFIXED = /^([A-Za-z][A-Za-z_\-]*?[_-]?)(\d{2,}|[0-9a-f]{8,})$/i;

export function isIdLike(segment: string): boolean {
  if (segment === '') return false;
  if (DIGITS.test(segment) || UUID.test(segment)) return true;
  if (HEX.test(segment) && /\d/.test(segment)) return true;
  // Long random tokens (base64, nanoid): letters and digits mixed.
  return TOKEN.test(segment) && /\d/.test(segment) && /[A-Za-z]/.test(segment);
}

export function generaliseSegment(segment: string): string {
  if (isIdLike(segment)) return '*';
  const m = SUFFIXED.exec(segment);
  if (m && /\d/.test(m[2])) return `${m[1]}*`;
  return segment;
}

export function inferKeyPattern(key: string, opts: PatternOptions): string {
  if (!opts.separator) return generaliseSegment(key);
  const parts = key.split(opts.separator);
  const kept = parts.slice(0, opts.depth).map(generaliseSegment);
  if (parts.length > opts.depth) kept.push('*');
  // `a:*:*` says no more than `a:*`.
  while (kept.length > 1 && kept[kept.length - 1] === '*' && kept[kept.length - 2] === '*') kept.pop();
  return kept.join(opts.separator);
}
