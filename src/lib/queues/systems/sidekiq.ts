import { randomBytes } from 'node:crypto';
import { InputError, UsageError } from '../../../errors.js';
import type { Target } from '../../connect/target.js';
import { parseTimestamp } from '../../ttl/age.js';
import type { Decision } from '../drain.js';
import { ageSince, asJob, enqueuedAt, setMembers, tailFirst, type PeekedJob } from '../jobs.js';
import { jobId, readFields, topLevelField, withField } from '../jsonField.js';
import { DEFAULT_FIELDS, type SidekiqKeys, type SidekiqRef } from '../model.js';
import { ROLES } from '../roles.js';
import type { QueueAdapter } from './adapter.js';

/**
 * Sidekiq: a LIST per queue (`queue:{name}`, registered in the SET
 * `queues`), and sorted sets shared by every queue (schedule, retry, dead)
 * whose entries name their queue; processes in `processes`, each with a
 * heartbeat hash that expires after 60 s.
 */
export function sidekiqKeys(queue: string): SidekiqKeys {
  return { queue: `queue:${queue}`, schedule: 'schedule', retry: 'retry', dead: 'dead', processes: 'processes' };
}

const SHARED = sidekiqKeys('');

export const sidekiq: QueueAdapter<SidekiqRef> = {
  system: 'sidekiq',
  roles: ROLES.sidekiq,
  declare: (q, base) => ({ ...base, system: 'sidekiq', keys: { ...sidekiqKeys(q.name), ...q.keys } }),

  nameCanMatter: (name) => name === 'queues' || name === SHARED.processes || name === SHARED.retry || name === SHARED.schedule || name === SHARED.dead,
  worthKeeping: (name, type) => (type === 'set' && (name === 'queues' || name === SHARED.processes))
    || (type === 'zset' && (name === SHARED.retry || name === SHARED.schedule || name === SHARED.dead)),
  async discover(t, db, seen, claimed) {
    if (seen.get('queues')?.type !== 'set') return [];
    const refs: SidekiqRef[] = [];
    for (const q of (await setMembers(t, 'queues')).sort()) {
      refs.push({ name: q, system: 'sidekiq', db, keys: sidekiqKeys(q), fields: DEFAULT_FIELDS, declared: false });
      claimed.add(`queue:${q}`);
    }
    return refs;
  },

  async count(t, refs, now) {
    const sk = await sharedCounts(t);
    return Promise.all(refs.map(async (ref) => {
      const [waiting, oldest] = await Promise.all([t.client.llen(ref.keys.queue), t.client.lindex(ref.keys.queue, -1)]);
      const of = (m: Map<string, number>) => m.get(ref.name) ?? 0;
      return {
        waiting, active: of(sk.work), delayed: of(sk.schedule), retry: of(sk.retry), dead: of(sk.dead), completed: null,
        oldestWaitingAgeSec: ageSince(now, oldest ? enqueuedAt(oldest, ['enqueued_at', 'created_at']) : null),
      };
    }));
  },

  // Sidekiq::Client LPUSHes; a fetcher BRPOPs.
  waitingList: (ref) => ({ key: ref.keys.queue, newest: 'head' }),
  peek: async (t, ref, n) => (await tailFirst(t, ref.keys.queue, n)).map((raw) => asJob(ref.keys.queue, raw)),

  async dead(t, ref, n) {
    const jobs: PeekedJob[] = [];
    let total = 0;
    let cursor = '0';
    do {
      const [next, flat] = await t.client.zscanBuffer(ref.keys.dead, cursor, 'COUNT', 1000);
      cursor = String(next);
      for (let i = 0; i < flat.length; i += 2) {
        const text = flat[i]!.toString('utf8');
        if (topLevelField(text, 'queue')?.value !== ref.name) continue;
        total++;
        if (jobs.length < n) {
          const f = readFields(text, ['error_message', 'error_class', 'retry_count', 'failed_at']) ?? {};
          jobs.push(asJob(ref.keys.dead, flat[i]!, { ...f, diedAt: Number(flat[i + 1]!.toString()) }));
        }
      }
    } while (cursor !== '0');
    return { total, jobs };
  },

  retryDrainPlan: (ref, opts) => ({
    source: { key: ref.keys.retry, kind: 'zset', maxScore: opts.all ? undefined : opts.now / 1000 },
    describe: `move ${opts.all ? 'all' : 'due'} ${ref.name} jobs from Sidekiq's retry set back to ${ref.keys.queue}`,
    decide: (stored) => decision(stored, ref, opts.now, opts.maxRetries, 'retried'),
  }),
  deadRequeuePlan: (ref, now) => ({
    source: { key: ref.keys.dead, kind: 'zset' },
    describe: `move ${ref.name} jobs from Sidekiq's dead set back to ${ref.keys.queue}, retry counter reset`,
    decide: (stored) => decision(stored, ref, now, undefined, 'requeued', true),
  }),
  deadPurgePlan: (ref) => ({
    source: { key: ref.keys.dead, kind: 'zset' },
    describe: `delete the ${ref.name} jobs in Sidekiq's dead set`,
    decide: (stored) => {
      const q = readFields(stored.toString('utf8'), ['queue'])?.queue;
      if (typeof q !== 'string') return { move: false, reason: 'malformed' };
      return q === ref.name ? { move: true, spec: { source: ref.keys.dead, sourceKind: 'zset', target: null, targetKind: 'none' }, next: stored, label: 'purged' } : { move: false, reason: 'other queue' };
    },
  }),

  enqueuePlan(ref, jobs, opts, now) {
    if (opts.priority !== undefined) throw new UsageError('Sidekiq queues have no priorities: --priority is for home-grown queues');
    const key = ref.keys.queue;
    return {
      key,
      payloads: jobs.map((j) => sidekiqPayload(j, ref.name, opts.className, now)),
      // As Sidekiq's client: register the queue and push, in one transaction.
      write: (t, batch) => t.client.multi().sadd('queues', ref.name).lpush(key, ...batch).exec(),
    };
  },

  async workers(t, db, refs, report, ctx) {
    if (!refs.length && !(await t.client.exists(SHARED.processes))) return;
    for (const identity of (await t.client.smembers(SHARED.processes)).sort()) {
      const [info, beat] = await t.client.hmget(identity, 'info', 'beat');
      const jobs = await sidekiqWork(t, identity);
      const ms = beat ? parseTimestamp(beat) : null;
      const queues = info ? (topLevelField(info, 'queues')?.value as string[] | undefined) : undefined;
      // Sidekiq's own rule: alive while the identity's hash (60 s expiry) exists.
      const alive = info !== null;
      report.workers.push({ id: identity, system: 'sidekiq', db, key: identity, lastSeen: ms === null ? null : new Date(ms).toISOString(), ageSec: ageSince(ctx.now, ms), alive, currentJob: jobs.map((j) => j.jid).filter(Boolean).join(',') || null, ...(queues ? { queues } : {}) });
      if (!alive) {
        for (const j of jobs) report.orphans.push({ system: 'sidekiq', db, queue: j.queue ?? '?', key: `${identity}:workers`, job: j.jid, worker: identity, reason: 'its process is dead (open-source Sidekiq keeps no copy to requeue)', requeueable: false });
      }
    }
  },

  // As Sidekiq's ProcessSet#cleanup: drop the identity only while its hash is gone.
  forget: async (t, w) => ((await t.client.exists(w.key!)) ? 0 : t.client.srem(SHARED.processes, w.key!)),
};

function decision(stored: Buffer, ref: SidekiqRef, now: number, maxRetries: number | undefined, label: string, reset = false): Decision {
  const text = stored.toString('utf8');
  const f = readFields(text, ['queue', 'retry_count', 'enqueued_at']);
  if (!f || typeof f.queue !== 'string') return { move: false, reason: 'malformed' };
  if (f.queue !== ref.name) return { move: false, reason: 'other queue' };
  const source = reset ? ref.keys.dead : ref.keys.retry;
  if (!reset && maxRetries !== undefined && Number(f.retry_count ?? 0) >= maxRetries) {
    return { move: true, spec: { source, sourceKind: 'zset', target: ref.keys.dead, targetKind: 'zadd', score: now / 1000 }, next: stored, label: 'dead' };
  }
  // As Sidekiq's own poller does: the job goes back with a fresh enqueued_at
  // (in the unit the payload already uses: ms from Sidekiq 8, seconds before).
  const old = Number(f.enqueued_at);
  let next = withField(text, 'enqueued_at', old > 1e12 ? String(now) : String(now / 1000));
  if (reset && topLevelField(next, 'retry_count')) next = withField(next, 'retry_count', '0');
  return {
    move: true, label,
    spec: { source, sourceKind: 'zset', target: ref.keys.queue, targetKind: 'lpush', registry: { key: 'queues', member: ref.name } },
    next: Buffer.from(next),
  };
}

/**
 * A Sidekiq payload as Sidekiq::Client#push writes it: class, args, jid,
 * queue, retry, created_at and enqueued_at (float seconds, as Sidekiq 6 and 7).
 * Fields the job gives are kept byte for byte.
 */
export function sidekiqPayload(job: string, queue: string, className: string | undefined, now: number): string {
  let p = job;
  if (!topLevelField(p, 'class')) {
    if (!className) throw new InputError('a Sidekiq job needs a "class" (in the job, or --class NAME); nothing was enqueued');
    p = withField(p, 'class', JSON.stringify(className));
  }
  if (!topLevelField(p, 'args')) p = withField(p, 'args', '[]');
  if (!topLevelField(p, 'jid')) p = withField(p, 'jid', JSON.stringify(randomBytes(12).toString('hex')));
  p = withField(p, 'queue', JSON.stringify(queue));
  if (!topLevelField(p, 'retry')) p = withField(p, 'retry', 'true');
  if (!topLevelField(p, 'created_at')) p = withField(p, 'created_at', String(now / 1000));
  return withField(p, 'enqueued_at', String(now / 1000));
}

interface SharedCounts {
  schedule: Map<string, number>;
  retry: Map<string, number>;
  dead: Map<string, number>;
  work: Map<string, number>;
}

/** Per-queue counts of Sidekiq's shared sets, in one ZSCAN pass each (as Sidekiq's API iterates them). */
async function sharedCounts(t: Target): Promise<SharedCounts> {
  const perQueue = async (key: string) => {
    const m = new Map<string, number>();
    let cursor = '0';
    do {
      const [next, flat] = await t.client.zscan(key, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        const q = topLevelField(flat[i]!, 'queue')?.value;
        if (typeof q === 'string') m.set(q, (m.get(q) ?? 0) + 1);
      }
    } while (cursor !== '0');
    return m;
  };
  const [schedule, retry, dead, work] = await Promise.all([perQueue(SHARED.schedule), perQueue(SHARED.retry), perQueue(SHARED.dead), workPerQueue(t)]);
  return { schedule, retry, dead, work };
}

/**
 * A Sidekiq process's jobs in flight: its work hash, `{identity}:workers`
 * up to 6.x, `{identity}:work` from 7.
 */
async function sidekiqWork(t: Target, identity: string): Promise<{ queue: string | null; jid: string | null }[]> {
  const work = { ...(await t.client.hgetall(`${identity}:workers`)), ...(await t.client.hgetall(`${identity}:work`)) };
  return Object.values(work).map((w) => {
    const payload = topLevelField(w, 'payload')?.value;
    const queue = topLevelField(w, 'queue')?.value;
    return { queue: typeof queue === 'string' ? queue : null, jid: jobId(typeof payload === 'string' ? payload : JSON.stringify(payload ?? {})) };
  });
}

/** Jobs in flight per queue: the work hashes of processes whose heartbeat still exists (Sidekiq's WorkSet). */
async function workPerQueue(t: Target): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const p of await t.client.smembers(SHARED.processes)) {
    if (!(await t.client.exists(p))) continue;
    for (const { queue } of await sidekiqWork(t, p)) if (queue) m.set(queue, (m.get(queue) ?? 0) + 1);
  }
  return m;
}
