import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000,
};

/**
 * Parses "90s", "10m", "1h30m", "2d", "500ms", or a bare number of seconds.
 * Returns milliseconds. Throws a UsageError naming the flag on bad input.
 */
export function parseDuration(text: string, flag = 'duration', limits: { minMs?: number; maxMs?: number; why?: string } = {}): number {
  const ms = parseAnyDuration(text, flag);
  if (limits.minMs !== undefined && ms < limits.minMs) {
    throw new UsageError(`${flag}: "${text}" is too short: at least ${formatDuration(limits.minMs)}${limits.why ? ` (${limits.why})` : ''}`);
  }
  if (limits.maxMs !== undefined && ms > limits.maxMs) {
    throw new UsageError(`${flag}: "${text}" is too long: at most ${formatDuration(limits.maxMs)}${limits.why ? ` (${limits.why})` : ''}`);
  }
  return ms;
}

function parseAnyDuration(text: string, flag: string): number {
  const s = String(text).trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new UsageError(`${flag}: "${text}" is not a duration (examples: 500ms, 90s, 10m, 1h30m, 7d)`);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (s.length === 0) throw new UsageError(`${flag}: empty duration`);
  return Math.round(total);
}

/** Compact human form: 1d2h, 3m20s, 850ms. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join('');
}

export function parsePositiveInt(text: string, flag: string, { allowZero = false } = {}): number {
  const n = Number(text);
  if (!/^\d+$/.test(String(text).trim()) || !Number.isSafeInteger(n) || (!allowZero && n === 0)) {
    throw new UsageError(`${flag}: "${text}" is not a ${allowZero ? 'non-negative' : 'positive'} whole number`);
  }
  return n;
}

export function parsePositiveNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: "${text}" is not a positive number`);
  return n;
}

/** The longest expiry a key can be given: expiry instants are kept as milliseconds within a JavaScript Date's range (the backup format's too). */
export function maxTtlMs(now = Date.now()): number {
  return 8_640_000_000_000_000 - now;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** A size as Redis's config spells it: 1048576, 512kb, 16mb, 1gb (powers of 1024). */
export function parseBytes(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${flag}: "${text}" is not a size (examples: 1048576, 512kb, 16mb, 1gb)`);
  return Math.round(Number(m[1]) * unit);
}
