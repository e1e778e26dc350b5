import { createHash } from 'node:crypto';
import type { KeyBackup } from '../backup/writer.js';
import { mapLimited } from '../concurrency.js';
import { forEachDb } from '../connect/dbs.js';
import type { NodeHandle, Target } from '../connect/target.js';
import { isChange, type Rails, type StopReason } from '../rails.js';
import { walkKeys, type KeyInfo } from '../scan/walk.js';
import { loadScript, runScript } from '../scripts/loader.js';
import { ageFieldOf } from './age.js';
import { formatDuration } from '../duration.js';
import { breaksRule, ruleFor, type TtlRule } from './rules.js';

export type CleanupAction = { kind: 'unlink' } | { kind: 'expire'; ttlMs: number } | { kind: 'rules' };

export interface CleanupOptions {
  match: string;
  dbs: number[];
  count: number;
  action: CleanupAction;
  noTtl: boolean;
  ttlAboveMs?: number;
  idleOverSec?: number;
  age?: { field: string; olderThanMs: number };
  /** Only keys that break a TTL rule (and, with action 'rules', each gets its rule's maximum TTL). */
  rules?: TtlRule[];
  signal?: AbortSignal;
  /** Runs between the plan of a batch and its writes (tests mutate keys here). */
  beforeWrite?: (keys: Buffer[]) => Promise<void>;
  /** Each change (or, in a dry run, each change it would make), with why the key was selected. */
  onChange?: (db: number, node: string, key: Buffer, action: string, reason: string) => Promise<void>;
  onProgress?: (scanned: number, changed: number) => void;
}

export type SkipReason = 'gone' | 'expiryChanged' | 'noLongerIdle' | 'valueChanged' | 'ageFieldMissing' | 'ageFieldUnparsable' | 'wrongType';

export interface CleanupSummary {
  dryRun: boolean;
  action: string;
  scanned: number;
  matched: number;
  changed: number;
  skipped: Record<SkipReason, number>;
  durationMs: number;
  stoppedBy: StopReason | null;
}

interface Candidate {
  key: Buffer;
  type: string;
  ttlMs: number;
  unlink: boolean;
  ageMode: '' | 'string' | 'hash';
  seen: string;
  /** Why the plan selected it: the selectors it passed. */
  reason: string;
}

const REASON: Record<number, SkipReason> = { [-1]: 'gone', [-2]: 'expiryChanged', [-3]: 'noLongerIdle', [-4]: 'valueChanged' };

/**
 * Plan (read-only: walk, filter on TTL and idle time, read age fields), then
 * write through the rails: each change re-checks, atomically, what the plan
 * saw (a short script per key), so a key that got a TTL, was rewritten or had
 * its age field changed meanwhile is left alone and counted.
 */
export async function cleanupTtl(target: Target, opts: CleanupOptions, rails: Rails, backup: KeyBackup | null): Promise<CleanupSummary> {
  const started = Date.now();
  const skipped = { gone: 0, expiryChanged: 0, noLongerIdle: 0, valueChanged: 0, ageFieldMissing: 0, ageFieldUnparsable: 0, wrongType: 0 };
  const summary: CleanupSummary = { dryRun: rails.dryRun, action: opts.action.kind, scanned: 0, matched: 0, changed: 0, skipped, durationMs: 0, stoppedBy: null };
  const script = loadScript('ttl-cleanup', target.serverVersion);
  await forEachDb(target, opts.dbs, async (t, db) => {
    if (rails.stopReason) return;
    for await (const batch of walkKeys(t, {
      match: opts.match, count: opts.count, signal: opts.signal,
      probe: { type: true, ttl: true, idle: opts.idleOverSec !== undefined },
    })) {
      summary.scanned += batch.keys.length + batch.vanished;
      const node = batch.handle;
      let candidates = await plan(node!, batch.keys, opts, skipped);
      summary.matched += candidates.length;
      while (candidates.length) {
        const step = await rails.apply(candidates, {
          write: async (chunk) => {
            // The backup holds every key before it is changed: `restore FILE` undoes the run.
            if (backup) await backup.backupKeys(node!, db, chunk.map((c) => c.key));
            await opts.beforeWrite?.(chunk.map((c) => c.key));
            const results = await recheckAndWrite(t, script, chunk, opts);
            return results.map((r) => (r === 1 ? 'done' : REASON[r] ?? 'gone'));
          },
          change: (c, o) => ({ key: c.key, action: c.unlink ? 'unlink' : 'expire', db, node: node!.address, detail: c.unlink || o === 'planned' ? undefined : { ttlMs: c.ttlMs } }),
        });
        if (!step) break;
        candidates = candidates.slice(step.items.length);
        for (const [i, c] of step.items.entries()) {
          const o = step.outcomes[i]!;
          if (o === 'done') summary.changed++;
          else if (o !== 'planned') skipped[o as keyof typeof skipped]++;
          if (isChange(o)) await opts.onChange?.(db, node!.address, c.key, c.unlink ? 'unlink' : `expire ${c.ttlMs}`, c.reason);
        }
      }
      opts.onProgress?.(summary.scanned, summary.changed);
      if (rails.stopReason) break;
    }
  });
  summary.stoppedBy = rails.stopReason;
  summary.durationMs = Date.now() - started;
  return summary;
}

/** Keys per re-check script call: each key is still checked and changed in its own atomic step. */
const WRITE_BATCH = 100;

/**
 * Runs the re-checking write for a chunk of keys: batches of keys per script
 * call (grouped by slot on a cluster), two calls in flight. Returns the
 * script's answer per key, in order.
 */
async function recheckAndWrite(t: Target, script: ReturnType<typeof loadScript>, chunk: Candidate[], opts: CleanupOptions): Promise<number[]> {
  // One call checks keys of one slot (cluster) and one kind of age check.
  const groups = new Map<string, number[]>();
  chunk.forEach((c, i) => {
    const id = `${t.slotOf(c.key)}|${c.ageMode}`;
    const g = groups.get(id);
    if (g) g.push(i);
    else groups.set(id, [i]);
  });
  const batches: number[][] = [];
  for (const idx of groups.values()) for (let i = 0; i < idx.length; i += WRITE_BATCH) batches.push(idx.slice(i, i + WRITE_BATCH));
  const results: number[] = new Array(chunk.length);
  await mapLimited(batches, 2, async (idx) => {
    const first = chunk[idx[0]!];
    // The idle check is skipped for keys whose age field was read: that read refreshed it.
    const common = [first!.unlink ? 'unlink' : 'expire', opts.noTtl ? 1 : 0, opts.ttlAboveMs ?? -1,
      opts.idleOverSec !== undefined && !first!.ageMode ? Math.floor(opts.idleOverSec) : -1, first!.ageMode, opts.age?.field ?? ''];
    const reply = (await runScript(t.client, script, idx.map((i) => chunk[i]!.key), [...common, ...idx.flatMap((i) => [chunk[i]!.ttlMs, chunk[i]!.seen])])) as number[];
    idx.forEach((i, j) => { results[i] = Number(reply[j]); });
  });
  return results;
}

/** Which keys of a page the run would change, and with what. */
async function plan(node: NodeHandle, keys: KeyInfo[], opts: CleanupOptions, skipped: CleanupSummary['skipped']): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const k of keys) {
    const ttl = k.ttlMs ?? null;
    if (opts.noTtl && ttl !== null) continue;
    if (opts.ttlAboveMs !== undefined && (ttl === null || ttl <= opts.ttlAboveMs)) continue;
    if (opts.idleOverSec !== undefined && (k.idleSec ?? 0) < opts.idleOverSec) continue;
    let ttlMs = opts.action.kind === 'expire' ? opts.action.ttlMs : 0;
    const why: string[] = [`matches ${opts.match}`];
    if (opts.noTtl) why.push('no TTL');
    if (opts.ttlAboveMs !== undefined) why.push(`TTL ${formatDuration(ttl ?? 0)} > ${formatDuration(opts.ttlAboveMs)}`);
    if (opts.idleOverSec !== undefined) why.push(`idle ${formatDuration((k.idleSec ?? 0) * 1000)}`);
    if (opts.rules) {
      const rule = ruleFor(k.key, opts.rules);
      if (!rule || !breaksRule(ttl, rule)) continue;
      if (opts.action.kind === 'rules') ttlMs = rule.maxTtlMs;
      why.push(`breaks rule ${rule.pattern} (max ${formatDuration(rule.maxTtlMs)}, has ${ttl === null ? 'none' : formatDuration(ttl)})`);
    }
    out.push({ key: k.key, type: k.type ?? 'unknown', ttlMs, unlink: opts.action.kind === 'unlink', ageMode: '', seen: '', reason: why.join(', ') });
  }
  if (!opts.age || out.length === 0) return out;

  // Age recorded in the data: read after the idle time (reading refreshes it).
  const field = opts.age.field;
  const p = node.client.pipeline();
  for (const c of out) {
    if (c.type === 'hash') p.hgetBuffer(c.key, field);
    else if (c.type === 'string') p.getBuffer(c.key);
    else p.echo('');
  }
  const replies = (await p.exec()) ?? [];
  const now = Date.now();
  const aged: Candidate[] = [];
  out.forEach((c, i) => {
    const type = c.type;
    if (type !== 'hash' && type !== 'string') {
      skipped.wrongType++;
      return;
    }
    const value = (replies[i]?.[1] ?? null) as Buffer | null;
    const age = ageFieldOf(type, value, field);
    if (age.raw === null) {
      skipped.ageFieldMissing++;
      return;
    }
    if (age.ms === null) {
      skipped.ageFieldUnparsable++;
      return;
    }
    if (now - age.ms <= opts.age!.olderThanMs) return;
    aged.push({
      ...c,
      reason: `${c.reason}, ${field} ${formatDuration(now - age.ms)} ago`,
      ageMode: type === 'hash' ? 'hash' : 'string',
      seen: type === 'hash' ? age.raw : createHash('sha1').update(value!).digest('hex'),
    });
  });
  return aged;
}
