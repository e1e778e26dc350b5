/**
 * A timestamp recorded in the data itself, as the seeds write them:
 * ISO-8601 with or without a zone (no zone means UTC: Python's
 * datetime.utcnow().isoformat()), or epoch seconds (fractional allowed) or
 * milliseconds (told apart by magnitude). Returns unix ms, or null when the
 * text is not a timestamp.
 */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === 'number') return epoch(value);
  if (typeof value !== 'string') return null;
  const t = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return epoch(Number(t));
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?)?\s*(Z|[+-]\d\d:?\d\d)?$/i.exec(t);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone] = m;
  const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
  let utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  if (Number.isNaN(utc)) return null;
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /([+-])(\d\d):?(\d\d)/.exec(zone)!;
    const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    utc -= z[1] === '+' ? offset : -offset;
  }
  return utc;
}

function epoch(n: number): number | null {
  if (!Number.isFinite(n) || n <= 0) return null;
  // Milliseconds since 1970 passed 1e12 in 2001; seconds will not reach it for millennia.
  return n > 1e12 ? Math.round(n) : Math.round(n * 1000);
}

/** The age field of a value: a JSON string's top-level field, or a hash field's value. */
export function ageFieldOf(type: string, value: Buffer | null, field: string): { raw: string | null; ms: number | null } {
  if (value === null) return { raw: null, ms: null };
  if (type === 'hash') {
    const raw = value.toString('utf8');
    return { raw, ms: parseTimestamp(raw) };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(value.toString('utf8'));
  } catch {
    return { raw: null, ms: null };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { raw: null, ms: null };
  const v = (doc as Record<string, unknown>)[field];
  if (v === undefined || v === null) return { raw: null, ms: null };
  return { raw: String(v), ms: parseTimestamp(v) };
}
