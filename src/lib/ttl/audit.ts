import { forEachDb } from '../connect/dbs.js';
import type { Target } from '../connect/target.js';
import { keyJson, keyText, type KeyJson } from '../keyname.js';
import { inferKeyPattern } from '../keys/pattern.js';
import { emptyTtlBuckets, ttlBucket, type TtlBuckets } from '../keys/ttlBuckets.js';
import { walkKeys } from '../scan/walk.js';
import { breaksRule, ruleFor, type TtlRule } from './rules.js';

export interface TtlAuditOptions {
  match?: string;
  dbs: number[];
  count: number;
  separator: string;
  depth: number;
  groups: number;
  rules: TtlRule[];
  /** OBJECT IDLETIME is an error under an LFU policy: then idle times are not read. */
  readIdle: boolean;
  signal?: AbortSignal;
  onProgress?: (scanned: number) => void;
  /** Said once when MEMORY USAGE is refused (an ACL user without it): the audit goes on without bytes. */
  onNoBytes?: (node: string) => void;
}

export interface PatternTtl {
  db: number;
  pattern: string;
  count: number;
  noTtl: { count: number; bytes: number; maxIdleSec: number | null };
  ttl: TtlBuckets;
}

export interface RuleResult {
  pattern: string;
  maxTtlMs: number;
  checked: number;
  violations: number;
  sample: (KeyJson & { db: number; ttlMs: number | null })[];
}

export interface TtlAudit {
  complete: boolean;
  scanned: number;
  durationMs: number;
  noTtl: { count: number; bytes: number };
  /** false when MEMORY USAGE was not allowed on some node: bytes then leave those keys out. */
  bytesMeasured: boolean;
  patterns: PatternTtl[];
  rules: RuleResult[];
  violations: number;
}

/** Keys without expiry by pattern (count, bytes, longest idle), TTL spread, and rule violations: one walk. */
export async function auditTtl(target: Target, opts: TtlAuditOptions): Promise<TtlAudit> {
  const started = Date.now();
  const groups = new Map<string, PatternTtl>();
  const rules: RuleResult[] = opts.rules.map((r) => ({ pattern: r.pattern, maxTtlMs: r.maxTtlMs, checked: 0, violations: 0, sample: [] }));
  const total = { count: 0, bytes: 0 };
  let scanned = 0;
  let bytesMeasured = true;
  await forEachDb(target, opts.dbs, async (t, db) => {
    for await (const batch of walkKeys(t, {
      match: opts.match, count: opts.count, signal: opts.signal,
      onNoBytes: (node) => {
        bytesMeasured = false;
        opts.onNoBytes?.(node);
      },
      probe: { ttl: true, memory: true, idle: opts.readIdle },
    })) {
      for (const k of batch.keys) {
        scanned++;
        const ttlMs = k.ttlMs ?? null;
        const pattern = inferKeyPattern(keyText(k.key), opts);
        const id = `${db}\n${pattern}`;
        let g = groups.get(id);
        if (!g) groups.set(id, (g = { db, pattern, count: 0, noTtl: { count: 0, bytes: 0, maxIdleSec: opts.readIdle ? 0 : null }, ttl: emptyTtlBuckets() }));
        g.count++;
        g.ttl[ttlBucket(ttlMs)]++;
        if (ttlMs === null) {
          g.noTtl.count++;
          g.noTtl.bytes += k.bytes ?? 0;
          total.count++;
          total.bytes += k.bytes ?? 0;
          if (g.noTtl.maxIdleSec !== null && (k.idleSec ?? 0) > g.noTtl.maxIdleSec) g.noTtl.maxIdleSec = k.idleSec ?? 0;
        }
        const rule = ruleFor(k.key, opts.rules);
        if (rule) {
          const rr = rules[opts.rules.indexOf(rule)];
          rr!.checked++;
          if (breaksRule(ttlMs, rule)) {
            rr!.violations++;
            if (rr!.sample.length < 5) rr!.sample.push({ ...keyJson(k.key), db, ttlMs });
          }
        }
      }
      opts.onProgress?.(scanned);
    }
  });
  const list = [...groups.values()].sort((a, b) => b.noTtl.bytes - a.noTtl.bytes || b.count - a.count);
  const shown = list.slice(0, opts.groups);
  const rest = list.slice(opts.groups);
  if (rest.length) {
    const other: PatternTtl = { db: opts.dbs.length === 1 ? opts.dbs[0]! : -1, pattern: '[other]', count: 0, noTtl: { count: 0, bytes: 0, maxIdleSec: opts.readIdle ? 0 : null }, ttl: emptyTtlBuckets() };
    for (const g of rest) {
      other.count += g.count;
      other.noTtl.count += g.noTtl.count;
      other.noTtl.bytes += g.noTtl.bytes;
      if (other.noTtl.maxIdleSec !== null) other.noTtl.maxIdleSec = Math.max(other.noTtl.maxIdleSec, g.noTtl.maxIdleSec ?? 0);
      for (const b of Object.keys(other.ttl) as (keyof TtlBuckets)[]) other.ttl[b] += g.ttl[b];
    }
    shown.push(other);
  }
  return {
    complete: !opts.signal?.aborted,
    scanned,
    durationMs: Date.now() - started,
    noTtl: total,
    bytesMeasured,
    patterns: shown,
    rules,
    violations: rules.reduce((a, r) => a + r.violations, 0),
  };
}

/** Whether the server's maxmemory-policy is LFU (OBJECT IDLETIME then fails); unknown counts as not. */
export async function usesLfu(target: Target): Promise<boolean> {
  try {
    const [, policy] = (await target.masters()[0]!.client.config('GET', 'maxmemory-policy')) as string[];
    return /lfu/i.test(policy ?? '');
  } catch {
    return false;
  }
}
