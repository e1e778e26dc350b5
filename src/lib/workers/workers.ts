import type { Target } from '../connect/target.js';
import { isChange, type ItemOutcome, type Rails } from '../rails.js';
import type { HeartbeatLayout } from '../queues/config.js';
import type { QueueRef, QueueSystem } from '../queues/model.js';
import { moveItems } from '../queues/move.js';
import { ADAPTERS, adapterFor, refsOf } from '../queues/systems/index.js';
import { loadScript, runScript } from '../scripts/loader.js';
import type { OrphanInfo, WorkersReport } from './model.js';

export type { OrphanInfo, WorkerInfo, WorkersReport } from './model.js';

export interface WorkerOptions {
  staleAfterMs: number;
  heartbeats: HeartbeatLayout[];
  now?: number;
  signal?: AbortSignal;
}

/**
 * Every worker the data shows, whatever wrote it, and the in-flight jobs no
 * live worker holds: each system's adapter reports its own (workers first,
 * then orphans, which need every worker known).
 */
export async function collectWorkers(t: Target, db: number, queues: QueueRef[], opts: WorkerOptions): Promise<WorkersReport> {
  const ctx = { now: opts.now ?? Date.now(), staleAfterMs: opts.staleAfterMs, heartbeats: opts.heartbeats, signal: opts.signal };
  const report: WorkersReport = { workers: [], orphans: [], notes: [] };
  const step = async <S extends QueueSystem>(system: S, what: 'workers' | 'orphans') => adapterFor(system)[what]?.(t, db, refsOf(queues, system), report, ctx);
  for (const system of WORKER_ORDER) await step(system, 'workers');
  report.workers.sort((a, b) => a.system.localeCompare(b.system) || a.id.localeCompare(b.id));
  for (const system of WORKER_ORDER) await step(system, 'orphans');
  return report;
}

/** The order workers and orphans are reported in. */
const WORKER_ORDER: QueueSystem[] = ['homegrown', 'sidekiq', 'rq', 'bullmq', 'celery'];

export interface ReapResult {
  dryRun: boolean;
  requeued: number;
  /** Orphans left: the worker came back, the job was taken meanwhile, or not requeueable. */
  skipped: Record<string, number>;
  forgotten: number;
  stopped: string | null;
}

/**
 * Requeues orphans (when asked), then forgets dead workers: each step a
 * compare-and-act script, so a worker that beats again in between keeps
 * its jobs and its record.
 */
export async function reapWorkers(
  t: Target, report: WorkersReport, rails: Rails, opts: { requeueOrphans: boolean; includeUnclaimed: boolean },
): Promise<ReapResult> {
  const result: ReapResult = { dryRun: rails.dryRun, requeued: 0, skipped: {}, forgotten: 0, stopped: null };
  const skip = (why: string, n = 1) => { result.skipped[why] = (result.skipped[why] ?? 0) + n; };
  await rails.openLog();
  if (opts.requeueOrphans) {
    const groups = new Map<string, OrphanInfo[]>();
    for (const o of report.orphans) {
      if (!o.requeueable || !o.stored || !o.requeueTo) { skip('not requeueable'); continue; }
      if (o.worker === null && !opts.includeUnclaimed) { skip('unclaimed (--include-unclaimed to requeue)'); continue; }
      const g = `${o.key}\u0000${o.worker ?? ''}`;
      groups.set(g, [...(groups.get(g) ?? []), o]);
    }
    const script = loadScript('orphan-requeue-3', t.serverVersion);
    for (const orphans of groups.values()) {
      const { key, worker, system } = orphans[0]!;
      const main = orphans[0]!.requeueTo!;
      const w = worker === null ? undefined : report.workers.find((x) => x.system === system && x.id === worker);
      const beatKey = w?.key ?? key;
      // Whether the batch moved, job by job; every job 'worker came back' when its heartbeat changed.
      const requeue = async (batch: OrphanInfo[]): Promise<ItemOutcome[]> => {
        let moved: boolean[] | null;
        if (!t.sameSlot(key, main, beatKey)) {
          // No script may span slots: check the heartbeat, then move job by job (move.ts).
          const now = w?.beat ? await t.client.hget(beatKey, w.beat.field) : null;
          moved = w?.beat && now !== w.beat.value ? null
            : await moveItems(t, { source: key, sourceKind: 'list', target: main, targetKind: 'rpush' }, batch.map((o) => ({ stored: o.stored!, next: o.stored! })));
        } else {
          const reply = await runScript(t.client, script, [key, main, beatKey], [w?.beat?.field ?? '', w?.beat?.value ?? '', ...batch.map((o) => o.stored!)]);
          moved = Array.isArray(reply) ? reply.map((x) => Number(x) === 1) : null;
        }
        return batch.map((_, k) => (moved === null ? 'worker came back' : moved[k] ? 'done' : 'taken meanwhile'));
      };
      for (let left = orphans; left.length;) {
        const step = await rails.apply(left.slice(0, 100), {
          write: requeue,
          change: (o) => ({ key: Buffer.from(o.key), action: 'requeue-orphan', detail: { to: main, job: o.job, worker: o.worker } }),
        });
        if (!step) { result.stopped = rails.stopReason; return result; }
        left = left.slice(step.items.length);
        for (const o of step.outcomes) {
          if (isChange(o)) result.requeued++;
          else skip(o);
        }
      }
    }
  }
  for (const w of report.workers.filter((x) => !x.alive)) {
    const refusal = ADAPTERS[w.system].forgetRefusal?.(w) ?? null;
    if (refusal) { skip(refusal); continue; }
    const step = await rails.apply([w], {
      write: async () => [(await ADAPTERS[w.system].forget?.(t, w)) ? 'done' : 'worker came back'],
      change: () => ({ key: Buffer.from(w.key ?? w.id), action: 'forget-worker', detail: { system: w.system, worker: w.id, lastSeen: w.lastSeen } }),
    });
    if (!step) { result.stopped = rails.stopReason; return result; }
    if (isChange(step.outcomes[0]!)) result.forgotten++;
    else skip(step.outcomes[0]!);
  }
  return result;
}
