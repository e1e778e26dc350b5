import { forEachDb } from '../connect/dbs.js';
import { Pace } from '../pace.js';
import type { Target } from '../connect/target.js';
import { globToRegExp, keyMatches } from '../glob.js';
import { withKey } from '../keyname.js';
import type { Rails } from '../rails.js';
import { walkKeys } from '../scan/walk.js';
import { loadScript, runScript } from '../scripts/loader.js';
import { valueJson, type ValueJson } from '../keys/inspect.js';

/**
 * OBJECT IDLETIME counts whole seconds: a lock renewed every 300 ms reads as
 * idle 0 or 1, so a shorter threshold would reap live locks.
 */
export const MIN_STALE_AFTER_MS = 2000;

/** Where locks usually live, when the config file names no patterns. */
export const COMMON_LOCK_PATTERNS = ['lock:*', '*:lock', 'locks:*', '*:lock:*'];

/**
 * Locks that belong to a queue system, which manages (and expires) them
 * itself: shown as that system's, never reaped by the generic rule.
 */
const SYSTEM_LOCKS: [RegExp, string][] = [
  [/^bull:[^:]+:[^:]+:lock$/, 'bullmq'],
  [/^rq:(scheduler-lock|scheduler_lock|worker|wip):/, 'rq'],
  [/^unacked_mutex$/, 'celery'],
  [/^sidekiq:|:sidekiq:/, 'sidekiq'],
];

export interface LockInfo {
  key?: string;
  key64?: string;
  db: number;
  node: string;
  type: string;
  /** The holder's token; null when not read (see README: reading refreshes idle time before Redis 7.2). */
  value: ValueJson | null;
  ttlMs: number | null;
  idleSec: number | null;
  stale: boolean;
  reason: string;
  /** The queue system that owns this lock, or null for application locks. */
  system: string | null;
}

export interface LockOptions {
  patterns: string[];
  dbs: number[];
  staleAfterMs: number;
  maxTtlMs?: number;
  /** Read holder values (refreshes idle times on servers without CLIENT NO-TOUCH). */
  readValues: boolean;
  /** At most this many lock keys read per second (the exporter's background walk). */
  rate?: number;
  signal?: AbortSignal;
}

/** Lock keys matching the patterns (one walk for all of them), with holder, TTL, idle time and staleness. */
export async function listLocks(target: Target, opts: LockOptions): Promise<(LockInfo & { raw: Buffer })[]> {
  const found: (LockInfo & { raw: Buffer })[] = [];
  await eachLock(target, opts, (lock) => found.push(lock));
  return found;
}

/** The same walk, each lock handed to `visit` as it is judged: a count keeps none of them. */
export async function eachLock(target: Target, opts: LockOptions, visit: (lock: LockInfo & { raw: Buffer }) => void): Promise<void> {
  const globs = opts.patterns.map(globToRegExp);
  const pace = new Pace(opts.rate);
  await forEachDb(target, opts.dbs, async (t, db) => {
    for await (const batch of walkKeys(t, {
      match: opts.patterns.length === 1 ? opts.patterns[0] : undefined,
      count: 1000, signal: opts.signal,
    })) {
      const names = batch.keys.map((k) => k.key).filter((k) => keyMatches(k, globs));
      if (!names.length) continue;
      await pace.take(names.length, opts.signal);
      const node = batch.handle;
      // Idle time first: reading a value refreshes it.
      const p = node!.client.pipeline();
      for (const k of names) p.type(k).pttl(k).call('OBJECT', 'IDLETIME', k);
      const meta = (await p.exec()) ?? [];
      const values = new Map<number, Buffer | null>();
      if (opts.readValues) {
        const v = node!.client.pipeline();
        names.forEach((k, i) => { if (String(meta[i * 3]?.[1]) === 'string') v.getBuffer(k); });
        const got = (await v.exec()) ?? [];
        let j = 0;
        names.forEach((_, i) => { if (String(meta[i * 3]?.[1]) === 'string') values.set(i, (got[j++]?.[1] ?? null) as Buffer | null); });
      }
      names.forEach((k, i) => {
        const type = String(meta[i * 3]?.[1]);
        if (type === 'none') return;
        const pttl = Number(meta[i * 3 + 1]?.[1]);
        const idleErr = meta[i * 3 + 2]?.[0];
        const idleSec = idleErr ? null : Number(meta[i * 3 + 2]?.[1]);
        const ttlMs = pttl >= 0 ? pttl : null;
        const name = k.toString('latin1');
        const system = SYSTEM_LOCKS.find(([re]) => re.test(name))?.[1] ?? null;
        const raw = values.get(i) ?? null;
        const verdict = judge(type, ttlMs, idleSec, system, opts);
        visit(withKey(k, { raw: k, db, node: node!.address, type, value: raw ? valueJson(raw) : null, ttlMs, idleSec, ...verdict, system }));
      });
    }
  });
}

function judge(type: string, ttlMs: number | null, idleSec: number | null, system: string | null, opts: LockOptions): { stale: boolean; reason: string } {
  if (system) return { stale: false, reason: `owned by ${system}, which expires its own locks: never reaped by the generic rule` };
  if (type !== 'string') return { stale: false, reason: `a ${type}, not a SET-style lock: left alone` };
  if (ttlMs === null) {
    if (idleSec === null) return { stale: false, reason: 'no expiry; idle time unknown (LFU policy): cannot judge' };
    const after = Math.round(opts.staleAfterMs / 1000);
    return idleSec >= after
      ? { stale: true, reason: `no expiry and idle ${idleSec}s (over ${after}s): its holder is probably gone` }
      : { stale: false, reason: `no expiry, idle ${idleSec}s (under ${after}s)` };
  }
  if (opts.maxTtlMs !== undefined && ttlMs > opts.maxTtlMs) return { stale: true, reason: `TTL ${Math.round(ttlMs / 1000)}s is longer than the allowed ${Math.round(opts.maxTtlMs / 1000)}s` };
  return { stale: false, reason: 'has an expiry: will free itself' };
}

export interface ReapResult {
  dryRun: boolean;
  considered: number;
  reaped: number;
  skipped: Record<string, number>;
  locks: (Omit<LockInfo, 'stale' | 'reason'> & { result: string })[];
}

/**
 * Deletes stale locks by compare-and-delete (lock-reap-1.lua): only a string
 * that still has no expiry, is still idle long enough, and (when the plan read
 * it) still holds the token the plan saw.
 */
export async function reapLocks(
  target: Target, locks: (LockInfo & { raw: Buffer })[], rails: Rails, opts: { staleAfterMs: number; maxTtlMs?: number; force: boolean },
): Promise<ReapResult> {
  const script = loadScript('lock-reap-1', target.serverVersion);
  const result: ReapResult = { dryRun: rails.dryRun, considered: locks.length, reaped: 0, skipped: {}, locks: [] };
  await rails.openLog();
  const byDb = new Map<number, (LockInfo & { raw: Buffer })[]>();
  for (const l of locks) byDb.set(l.db, [...(byDb.get(l.db) ?? []), l]);
  await forEachDb(target, [...byDb.keys()], async (t, db) => {
    for (const lock of byDb.get(db)!) {
      const { raw, stale: _stale, reason: _reason, ...shown } = lock;
      let seen: Buffer = Buffer.alloc(0);
      const step = await rails.apply([lock], {
        write: async () => {
          const expected = lock.value ? Buffer.from('value' in lock.value ? lock.value.value : lock.value.value64, 'value' in lock.value ? 'utf8' : 'base64') : Buffer.alloc(0);
          // --force reaps one named lock whatever its expiry and idle time (still compare-and-delete on its token).
          const idle = Math.floor(opts.staleAfterMs / 1000);
          const [ok, detail] = (await runScript(t.client, script, [raw], [expected, idle, lock.value ? 1 : 0, opts.maxTtlMs ?? -1, opts.force ? 1 : 0])) as [number, Buffer];
          seen = detail;
          return [Number(ok) === 1 ? 'done' : String(detail)];
        },
        change: (_l, o) => ({ key: raw, action: 'reap-lock', db, node: lock.node, ...(o === 'done' ? { detail: { value: valueJson(seen) } } : {}) }),
      });
      if (!step) return;
      const why = step.outcomes[0]!;
      if (why === 'planned') result.locks.push({ ...shown, result: 'would reap' });
      else if (why === 'done') {
        result.reaped++;
        result.locks.push({ ...shown, value: valueJson(seen), result: 'reaped' });
      } else {
        result.skipped[why] = (result.skipped[why] ?? 0) + 1;
        result.locks.push({ ...shown, result: `left alone: ${why === 'value' ? 're-acquired (new token)' : why === 'idle' ? 'used again (no longer idle)' : why === 'ttl' ? 'now has an expiry' : why}` });
      }
    }
  });
  return result;
}
