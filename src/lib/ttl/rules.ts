import { UsageError } from '../../errors.js';
import { isObject } from '../configShape.js';
import { parseDuration } from '../duration.js';
import { globToRegExp } from '../glob.js';

/** A team's TTL rule: keys matching `pattern` must expire within `maxTtl`. */
export interface TtlRule {
  pattern: string;
  maxTtlMs: number;
  regex: RegExp;
}

export function validateTtlRules(value: unknown, where: string): TtlRule[] {
  if (!Array.isArray(value)) throw new UsageError(`${where} must be a list of {"pattern": "cache:*", "maxTtl": "1h"}`);
  return value.map((r, i) => {
    if (!isObject(r) || typeof r.pattern !== 'string' || typeof r.maxTtl !== 'string') {
      throw new UsageError(`${where}[${i}] must be {"pattern": "…", "maxTtl": "1h"}`);
    }
    for (const k of Object.keys(r)) if (!['pattern', 'maxTtl', 'comment'].includes(k)) throw new UsageError(`${where}[${i}].${k} is not a rule field (pattern, maxTtl)`);
    return { pattern: r.pattern, maxTtlMs: parseDuration(r.maxTtl, `${where}[${i}].maxTtl`), regex: globToRegExp(r.pattern) };
  });
}

/** The first rule a key falls under, or null. */
export function ruleFor(key: Buffer, rules: TtlRule[]): TtlRule | null {
  const s = key.toString('latin1');
  return rules.find((r) => r.regex.test(s)) ?? null;
}

/** A key breaks its rule when it has no expiry, or one further away than the rule allows. */
export function breaksRule(ttlMs: number | null, rule: TtlRule): boolean {
  return ttlMs === null || ttlMs > rule.maxTtlMs;
}

export interface LocksConfig {
  patterns?: string[];
  staleAfterMs?: number;
  maxTtlMs?: number;
}

export function validateLocks(value: unknown, where: string): LocksConfig {
  if (!isObject(value)) throw new UsageError(`${where} must be an object`);
  const out: LocksConfig = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'patterns') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UsageError(`${where}.patterns must be a list of glob patterns`);
      out.patterns = v as string[];
    } else if (k === 'staleAfter' || k === 'maxTtl') {
      if (typeof v !== 'string') throw new UsageError(`${where}.${k} must be a duration such as "10m"`);
      out[k === 'staleAfter' ? 'staleAfterMs' : 'maxTtlMs'] = parseDuration(v, `${where}.${k}`);
    } else throw new UsageError(`${where}.${k} is not a locks setting (patterns, staleAfter, maxTtl)`);
  }
  return out;
}
