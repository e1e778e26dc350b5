import calculateSlot from 'cluster-key-slot';
import type { Target } from '../connect/target.js';
import { utf8OrNull } from '../keyname.js';
import type { Rails } from '../rails.js';
import type { HeartbeatLayout } from '../queues/config.js';
import { jobId, topLevelField } from '../queues/jsonField.js';
import { sidekiqWork } from '../queues/count.js';
import type { QueueRef } from '../queues/model.js';
import { moveItems } from '../queues/move.js';
import { walkKeys } from '../scan/walk.js';
import { loadScript, runScript } from '../scripts/loader.js';
import { parseTimestamp } from '../ttl/age.js';

/**
 * Every worker the data shows, whatever wrote it, and the in-flight jobs no
 * live worker holds (README "workers"). A worker is alive by its system's own
 * rule where it has one (Sidekiq and RQ: the heartbeat record still exists,
 * as both let it expire), else by the age of its last heartbeat.
 */
export interface WorkerInfo {
  id: string;
  system: 'homegrown' | 'sidekiq' | 'rq' | 'bullmq';
  db: number;
  lastSeen: string | null;
  ageSec: number | null;
  alive: boolean;
  currentJob: string | null;
  /** The record that says so (heartbeat hash, process identity, client name). */
  key: string | null;
  queues?: string[];
  /** Internal: the heartbeat value seen, for compare-and-delete. */
  beat?: { field: string; value: string | null };
}

export interface OrphanInfo {
  system: string;
  db: number;
  queue: string;
  /** The processing key (or registry) holding the job. */
  key: string;
  job: string | null;
  worker: string | null;
  reason: string;
  /** Whether `workers reap --requeue-orphans` can put it back. */
  requeueable: boolean;
  /** Internal: the job as stored (LIST entries). */
  stored?: Buffer;
}

export interface WorkersReport {
  workers: WorkerInfo[];
  orphans: OrphanInfo[];
  notes: string[];
}

export interface WorkerOptions {
  staleAfterMs: number;
  heartbeats: HeartbeatLayout[];
  now?: number;
  signal?: AbortSignal;
}

export async function collectWorkers(t: Target, db: number, queues: QueueRef[], opts: WorkerOptions): Promise<WorkersReport> {
  const now = opts.now ?? Date.now();
  const report: WorkersReport = { workers: [], orphans: [], notes: [] };
  const age = (ms: number | null) => (ms === null ? null : Math.max(0, Math.round((now - ms) / 100) / 10));

  // Home-grown heartbeat hashes.
  const layouts = opts.heartbeats.map((h) => ({ ...h, prefix: h.pattern.split('*')[0], suffix: h.pattern.includes('*') ? h.pattern.slice(h.pattern.lastIndexOf('*') + 1) : '' }));
  const beats: { key: string; layout: (typeof layouts)[number] }[] = [];
  const found = new Set<string>();
  // One SCAN MATCH per pattern: the server filters, and only heartbeat keys are probed.
  for (const layout of layouts) {
    for await (const batch of walkKeys(t, { count: 1000, match: layout.pattern, probe: { type: true }, signal: opts.signal })) {
      for (const k of batch.keys) {
        const name = utf8OrNull(k.key);
        if (k.type !== 'hash' || name === null || found.has(name)) continue;
        found.add(name);
        beats.push({ key: name, layout });
      }
    }
  }
  await Promise.all(beats.map(async ({ key, layout }) => {
    const [seen = null, job = null] = await t.client.hmget(key, layout.lastSeen, layout.currentJob);
    const ms = seen === null ? null : parseTimestamp(seen);
    const id = key.slice(layout.prefix!.length, key.length - layout.suffix.length || undefined);
    report.workers.push({
      id, system: 'homegrown', db, key, lastSeen: ms === null ? seen : new Date(ms).toISOString(), ageSec: age(ms),
      alive: ms !== null && now - ms <= opts.staleAfterMs, currentJob: job || null, beat: { field: layout.lastSeen, value: seen },
    });
  }));

  if (queues.some((q) => q.system === 'sidekiq') || (await t.client.exists('processes'))) await sidekiqWorkers(t, db, report, age);
  if (queues.some((q) => q.system === 'rq') || (await t.client.exists('rq:workers'))) await rqWorkers(t, db, report, age);
  const bull = queues.filter((q) => q.system === 'bullmq');
  if (bull.length) await bullWorkers(t, db, bull, report, now);
  report.workers.sort((a, b) => a.system.localeCompare(b.system) || a.id.localeCompare(b.id));

  await homegrownOrphans(t, db, queues.filter((q) => q.system === 'homegrown'), report);
  for (const q of queues.filter((x) => x.system === 'rq')) {
    for (const id of await t.client.zrangebyscore(q.keys.wip!, '-inf', now / 1000)) {
      report.orphans.push({ system: 'rq', db, queue: q.name, key: q.keys.wip!, job: id, worker: null, reason: 'its started-registry entry expired: the worker stopped heart-beating for it', requeueable: false });
    }
  }
  for (const q of bull) {
    const ids = await t.client.lrange(q.keys.active!, 0, -1);
    const locks = await Promise.all(ids.map((id) => t.client.exists(`${q.prefix}:${q.name}:${id}:lock`)));
    ids.forEach((id, i) => {
      if (!locks[i]) report.orphans.push({ system: 'bullmq', db, queue: q.name, key: q.keys.active!, job: id, worker: null, reason: 'active without its lock: stalled (BullMQ\'s stalled-job check moves it back)', requeueable: false });
    });
  }
  return report;
}

async function sidekiqWorkers(t: Target, db: number, report: WorkersReport, age: (ms: number | null) => number | null): Promise<void> {
  for (const identity of (await t.client.smembers('processes')).sort()) {
    const [info, beat] = await t.client.hmget(identity, 'info', 'beat');
    const jobs = await sidekiqWork(t, identity);
    const ms = beat ? parseTimestamp(beat) : null;
    const queues = info ? (topLevelField(info, 'queues')?.value as string[] | undefined) : undefined;
    // Sidekiq's own rule: alive while the identity's hash (60 s expiry) exists.
    const alive = info !== null;
    report.workers.push({ id: identity, system: 'sidekiq', db, key: identity, lastSeen: ms === null ? null : new Date(ms).toISOString(), ageSec: age(ms), alive, currentJob: jobs.map((j) => j.jid).filter(Boolean).join(',') || null, ...(queues ? { queues } : {}) });
    if (!alive) {
      for (const j of jobs) report.orphans.push({ system: 'sidekiq', db, queue: j.queue ?? '?', key: `${identity}:workers`, job: j.jid, worker: identity, reason: 'its process is dead (open-source Sidekiq keeps no copy to requeue)', requeueable: false });
    }
  }
}

async function rqWorkers(t: Target, db: number, report: WorkersReport, age: (ms: number | null) => number | null): Promise<void> {
  for (const key of (await t.client.smembers('rq:workers')).sort()) {
    const [beat, job, queues, state] = await t.client.hmget(key, 'last_heartbeat', 'current_job', 'queues', 'state');
    const exists = beat !== null || state !== null || (await t.client.exists(key)) === 1;
    const ms = beat ? parseTimestamp(beat) : null;
    report.workers.push({ id: key.replace(/^rq:worker:/, ''), system: 'rq', db, key, lastSeen: ms === null ? null : new Date(ms).toISOString(), ageSec: age(ms), alive: exists, currentJob: job || null, ...(queues ? { queues: queues.split(',') } : {}) });
  }
}

async function bullWorkers(t: Target, db: number, queues: QueueRef[], report: WorkersReport, now: number): Promise<void> {
  const names = new Map(queues.map((q) => [`${q.prefix}:${Buffer.from(q.name).toString('base64')}`, q.name]));
  for (const node of t.masters()) {
    let list: string;
    try {
      list = String(await node.client.call('CLIENT', 'LIST'));
    } catch (e) {
      report.notes.push(`BullMQ workers on ${node.address}: unknown (CLIENT LIST refused: ${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    for (const line of list.split('\n')) {
      const f = Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      if (!f.name || Number(f.db) !== db) continue;
      for (const [base, queue] of names) {
        if (f.name !== base && !f.name.startsWith(`${base}:w:`)) continue;
        const idle = Number(f.idle ?? 0);
        report.workers.push({ id: f.name.startsWith(`${base}:w:`) ? f.name.slice(base.length + 3) : `${f.addr}`, system: 'bullmq', db, key: f.name, lastSeen: new Date(now - idle * 1000).toISOString(), ageSec: idle, alive: true, currentJob: null, queues: [queue] });
      }
    }
  }
}

async function homegrownOrphans(t: Target, db: number, queues: QueueRef[], report: WorkersReport): Promise<void> {
  const home = report.workers.filter((w) => w.system === 'homegrown');
  const owner = (id: string | null) => (id === null ? undefined : home.find((w) => w.currentJob === id));
  for (const q of queues) {
    const proc = q.keys.processing;
    const ptype = q.processingType ?? (proc && !proc.includes('*') ? await t.client.type(proc) : null);
    if (proc && ptype === 'set') {
      for (const id of await t.client.smembers(proc)) {
        const w = owner(id);
        if (w?.alive) continue;
        report.orphans.push({ system: 'homegrown', db, queue: q.name, key: proc, job: id, worker: w?.id ?? null, reason: `${w ? `its worker ${w.id} is dead` : 'no worker claims it'}; the set holds only the id, so the job itself is not in Redis to requeue`, requeueable: false });
      }
    }
    if (proc && ptype === 'list') {
      for (const stored of await t.client.lrangeBuffer(proc, 0, -1)) {
        const id = jobId(stored.toString('utf8'));
        const w = owner(id);
        if (w?.alive) continue;
        report.orphans.push({ system: 'homegrown', db, queue: q.name, key: proc, job: id, worker: w?.id ?? null, reason: w ? `its worker ${w.id} is dead` : 'no worker claims it', requeueable: true, stored });
      }
    }
    const [before, after] = proc?.includes('*') ? [proc.slice(0, proc.indexOf('*')), proc.slice(proc.lastIndexOf('*') + 1)] : [`${q.keys.main}:processing:`, ''];
    for (const list of q.workerLists ?? []) {
      const wid = list.slice(before.length, list.length - after.length);
      const w = home.find((x) => x.id === wid);
      if (w?.alive) continue;
      for (const stored of await t.client.lrangeBuffer(list, 0, -1)) {
        report.orphans.push({ system: 'homegrown', db, queue: q.name, key: list, job: jobId(stored.toString('utf8')), worker: wid, reason: w ? `its worker ${wid} is dead` : `its worker ${wid} has no heartbeat`, requeueable: true, stored });
      }
    }
  }
}

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
  t: Target, queues: QueueRef[], report: WorkersReport, rails: Rails, opts: { requeueOrphans: boolean; includeUnclaimed: boolean },
): Promise<ReapResult> {
  const result: ReapResult = { dryRun: rails.dryRun, requeued: 0, skipped: {}, forgotten: 0, stopped: null };
  const skip = (why: string, n = 1) => { result.skipped[why] = (result.skipped[why] ?? 0) + n; };
  await rails.openLog();
  if (opts.requeueOrphans) {
    const groups = new Map<string, OrphanInfo[]>();
    for (const o of report.orphans) {
      if (!o.requeueable || !o.stored) { skip('not requeueable'); continue; }
      if (o.worker === null && !opts.includeUnclaimed) { skip('unclaimed (--include-unclaimed to requeue)'); continue; }
      const g = `${o.key}\u0000${o.worker ?? ''}`;
      groups.set(g, [...(groups.get(g) ?? []), o]);
    }
    const script = loadScript('orphan-requeue-3', t.serverVersion);
    for (const orphans of groups.values()) {
      const { key, queue, worker } = orphans[0]!;
      const ref = queues.find((q) => q.name === queue && q.system === 'homegrown')!;
      const w = worker === null ? undefined : report.workers.find((x) => x.system === 'homegrown' && x.id === worker);
      const beatKey = w?.key ?? key;
      for (let i = 0; i < orphans.length;) {
        const n = await rails.admit(Math.min(100, orphans.length - i));
        if (n === 0) { result.stopped = rails.stopReason; return result; }
        const batch = orphans.slice(i, i + n);
        i += n;
        // Which jobs of the batch moved; null when the worker came back.
        let moved: boolean[] | null;
        if (rails.dryRun) moved = batch.map(() => true);
        else if (t.mode === 'cluster' && new Set([key, ref.keys.main!, beatKey].map((k) => calculateSlot(k))).size > 1) {
          // No script may span slots: check the heartbeat, then move job by job (move.ts).
          const now = w?.beat ? await t.client.hget(beatKey, w.beat.field) : null;
          moved = w?.beat && now !== w.beat.value ? null
            : await moveItems(t, { source: key, sourceKind: 'list', target: ref.keys.main!, targetKind: 'rpush' }, batch.map((o) => ({ stored: o.stored!, next: o.stored! })));
        } else {
          const reply = await runScript(t.client, script, [key, ref.keys.main!, beatKey], [w?.beat?.field ?? '', w?.beat?.value ?? '', ...batch.map((o) => o.stored!)]);
          moved = Array.isArray(reply) ? reply.map((x) => Number(x) === 1) : null;
        }
        if (moved === null) { skip('worker came back', batch.length); continue; }
        const done = batch.filter((_, k) => moved![k]);
        result.requeued += done.length;
        if (done.length < batch.length) skip('taken meanwhile', batch.length - done.length);
        await rails.record(done.map((o) => ({ key: Buffer.from(o.key), action: 'requeue-orphan', detail: { to: ref.keys.main, job: o.job, worker: o.worker } })));
      }
    }
  }
  const forget = loadScript('worker-forget-1', t.serverVersion);
  for (const w of report.workers.filter((x) => !x.alive)) {
    if ((await rails.admit(1)) === 0) { result.stopped = rails.stopReason; return result; }
    if (w.system === 'homegrown' && w.beat?.value == null) { skip('no heartbeat field to compare'); continue; }
    let gone = 0;
    if (rails.dryRun) gone = 1;
    else if (w.system === 'homegrown') {
      gone = Number(await runScript(t.client, forget, [w.key!], [w.beat!.field, w.beat!.value!]));
    } else if (w.system === 'sidekiq') {
      // As Sidekiq's ProcessSet#cleanup: drop the identity only while its hash is gone.
      if (!(await t.client.exists(w.key!))) gone = await t.client.srem('processes', w.key!);
    } else if (w.system === 'rq') {
      if (!(await t.client.exists(w.key!))) {
        gone = await t.client.srem('rq:workers', w.key!);
        for (const q of w.queues ?? []) await t.client.srem(`rq:workers:${q}`, w.key!);
      }
    }
    if (gone) {
      result.forgotten++;
      await rails.record([{ key: Buffer.from(w.key ?? w.id), action: 'forget-worker', detail: { system: w.system, worker: w.id, lastSeen: w.lastSeen } }]);
    } else skip('worker came back');
  }
  return result;
}
