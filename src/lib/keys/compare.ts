import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../../errors.js';
import { globToRegExp } from '../glob.js';
import type { GroupStats, KeyStats } from './stats.js';

/**
 * This week's `keys stats` against an earlier run's `--json`: per key pattern
 * the change in keys, bytes and the share without TTL, new and vanished
 * patterns, sorted by growth; and growth rules for CI and cron
 * (`--fail-on-growth 'payments:*=20%'`, or `20%` for every pattern).
 */
export interface PatternChange {
  db: number;
  pattern: string;
  status: 'grown' | 'shrunk' | 'same' | 'new' | 'vanished';
  countBefore: number | null;
  countNow: number | null;
  bytesBefore: number | null;
  bytesNow: number | null;
  /** (now - before) / before; null for new and vanished patterns. */
  bytesGrowth: number | null;
  countGrowth: number | null;
  noTtlShareBefore: number | null;
  noTtlShareNow: number | null;
}

export interface GrowthRule {
  /** The rule as written, for messages. */
  text: string;
  /** A glob against the pattern as the report names it; null: every pattern. */
  pattern: string | null;
  /** The largest growth allowed (0.2 for 20%). */
  max: number;
}

export interface Comparison {
  previous: string;
  previousAt: string | null;
  patterns: PatternChange[];
  /** Rules broken: the pattern, its growth, the rule. */
  failed: { pattern: string; db: number; bytesGrowth: number | null; rule: string }[];
}

/** `PATTERN=20%` or `20%` (every pattern). */
export function parseGrowthRule(text: string): GrowthRule {
  const m = /^(?:(.+)=)?(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (!m) throw new UsageError(`--fail-on-growth: "${text}" is not PATTERN=N% or N% (e.g. 'payments:*=20%', or 25% for every pattern)`);
  return { text, pattern: m[1] ?? null, max: Number(m[2]) / 100 };
}

type PreviousGroup = Pick<GroupStats, 'db' | 'pattern' | 'count' | 'bytes' | 'noTtlShare'>;

/** The groups of an earlier `keys stats --json` (file:line-free: one JSON document). */
export function readPrevious(path: string): { at: string | null; groups: PreviousGroup[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--compare: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--compare ${path}: not JSON (${(e as Error).message.split('\n')[0]}): give the --json output of an earlier keys stats`);
  }
  const groups = (doc as { groups?: unknown }).groups;
  const ok = Array.isArray(groups) && groups.every((g) => g && typeof g.pattern === 'string' && Number.isFinite(g.count) && Number.isFinite(g.bytes) && Number.isInteger(g.db));
  if (!ok) throw new InputError(`--compare ${path}: not the --json output of keys stats (no "groups" with pattern, db, count and bytes)`);
  return { at: typeof (doc as { at?: unknown }).at === 'string' ? (doc as { at: string }).at : null, groups: groups as PreviousGroup[] };
}

export function compareStats(previous: string, before: { at: string | null; groups: PreviousGroup[] }, now: KeyStats, rules: GrowthRule[]): Comparison {
  const id = (g: { db: number; pattern: string }) => `${g.db}\u0000${g.pattern}`;
  const old = new Map(before.groups.map((g) => [id(g), g]));
  const patterns: PatternChange[] = [];
  const growth = (a: number, b: number) => (a === 0 ? (b === 0 ? 0 : null) : (b - a) / a);
  for (const g of now.groups) {
    const p = old.get(id(g));
    old.delete(id(g));
    const bytesGrowth = p ? growth(p.bytes, g.bytes) : null;
    patterns.push({
      db: g.db, pattern: g.pattern,
      status: !p ? 'new' : g.bytes > p.bytes ? 'grown' : g.bytes < p.bytes ? 'shrunk' : 'same',
      countBefore: p?.count ?? null, countNow: g.count, bytesBefore: p?.bytes ?? null, bytesNow: g.bytes,
      bytesGrowth: bytesGrowth === null ? null : round(bytesGrowth), countGrowth: p ? nullableRound(growth(p.count, g.count)) : null,
      noTtlShareBefore: p?.noTtlShare ?? null, noTtlShareNow: g.noTtlShare,
    });
  }
  for (const p of old.values()) {
    patterns.push({ db: p.db, pattern: p.pattern, status: 'vanished', countBefore: p.count, countNow: null, bytesBefore: p.bytes, bytesNow: null, bytesGrowth: null, countGrowth: null, noTtlShareBefore: p.noTtlShare, noTtlShareNow: null });
  }
  // Most grown first (in bytes added), then new patterns by size, then the rest.
  const added = (c: PatternChange) => (c.bytesNow ?? 0) - (c.bytesBefore ?? 0);
  patterns.sort((a, b) => added(b) - added(a) || a.pattern.localeCompare(b.pattern));
  const failed: Comparison['failed'] = [];
  for (const c of patterns) {
    if (c.status === 'vanished') continue;
    // The rule naming the pattern wins over the default; a new pattern breaks only a rule that names it.
    const named = rules.find((r) => r.pattern !== null && globToRegExp(r.pattern).test(c.pattern));
    const rule = named ?? (c.status === 'new' ? undefined : rules.find((r) => r.pattern === null));
    if (!rule) continue;
    const broken = c.status === 'new' ? (c.bytesNow ?? 0) > 0 : c.bytesGrowth !== null && c.bytesGrowth > rule.max;
    if (broken) failed.push({ pattern: c.pattern, db: c.db, bytesGrowth: c.bytesGrowth, rule: rule.text });
  }
  return { previous, previousAt: before.at, patterns, failed };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const nullableRound = (n: number | null) => (n === null ? null : round(n));
