import type { Target } from '../../connect/target.js';
import { parseTimestamp } from '../../ttl/age.js';
import { ageSince, setMembers, type PeekedJob } from '../jobs.js';
import { DEFAULT_FIELDS, type RqKeys, type RqRef } from '../model.js';
import { ROLES } from '../roles.js';
import { refuse, type QueueAdapter } from './adapter.js';

/**
 * RQ: a LIST of job ids per queue (`rq:queue:{name}`, registered in
 * `rq:queues`), a HASH per job (`rq:job:{id}`), and sorted-set registries
 * (started = wip, scheduled, deferred, failed, finished). Workers in
 * `rq:workers`, each a hash that expires when it stops heart-beating.
 */
export function rqKeys(queue: string): RqKeys {
  return { queue: `rq:queue:${queue}`, wip: `rq:wip:${queue}`, scheduled: `rq:scheduled:${queue}`, deferred: `rq:deferred:${queue}`, failed: `rq:failed:${queue}`, finished: `rq:finished:${queue}` };
}

const WORKERS = 'rq:workers';

export const rq: QueueAdapter<RqRef> = {
  system: 'rq',
  roles: ROLES.rq,
  declare: (q, base) => ({ ...base, system: 'rq', keys: { ...rqKeys(q.name), ...q.keys } }),

  nameCanMatter: (name) => name.startsWith('rq:'),
  worthKeeping: (name, type) => (type === 'list' && name.startsWith('rq:')) || (type === 'set' && name === 'rq:queues'),
  async discover(t, db, seen, claimed) {
    const refs: RqRef[] = [];
    if (seen.get('rq:queues')?.type === 'set') {
      for (const key of (await setMembers(t, 'rq:queues')).sort()) {
        const q = key.replace(/^rq:queue:/, '');
        refs.push({ name: q, system: 'rq', db, keys: { ...rqKeys(q), queue: key }, fields: DEFAULT_FIELDS, declared: false });
      }
    }
    for (const name of seen.keys()) if (name.startsWith('rq:')) claimed.add(name);
    return refs;
  },

  // Read-only: RQ's own `count` runs a cleanup that writes, so its registries are counted with ZCARD.
  count: (t, refs, now) => Promise.all(refs.map(async ({ keys: k }) => {
    const c = t.client;
    const [waiting, wip, scheduled, deferred, failed, finished, oldestId] = await Promise.all([
      c.llen(k.queue), c.zcard(k.wip), c.zcard(k.scheduled), c.zcard(k.deferred), c.zcard(k.failed), c.zcard(k.finished), c.lindex(k.queue, 0),
    ]);
    const stamp = oldestId ? await c.hget(`rq:job:${oldestId}`, 'enqueued_at') : null;
    return { waiting, active: wip, delayed: scheduled + deferred, retry: null, dead: failed, completed: finished, oldestWaitingAgeSec: ageSince(now, stamp ? parseTimestamp(stamp) : null) };
  })),

  // RQ RPUSHes job ids; a worker LPOPs (BLPOP).
  waitingList: (ref) => ({ key: ref.keys.queue, newest: 'tail' }),
  peek: async (t, ref, n) => Promise.all((await t.client.lrange(ref.keys.queue, 0, n - 1)).map((id) => rqJob(t, id, ref.keys.queue))),
  async dead(t, ref, n) {
    const ids = await t.client.zrange(ref.keys.failed, 0, n - 1);
    return { total: await t.client.zcard(ref.keys.failed), jobs: await Promise.all(ids.map((id) => rqJob(t, id, ref.keys.failed))) };
  },

  retryDrainPlan: () => { throw refuse.retryDrain('rq', 'retries wait in the scheduled registry'); },
  deadRequeuePlan: () => { throw refuse.deadWrite('rq'); },
  deadPurgePlan: () => { throw refuse.deadWrite('rq'); },
  enqueuePlan: () => { throw refuse.enqueue('rq'); },

  async workers(t, db, refs, report, ctx) {
    if (!refs.length && !(await t.client.exists(WORKERS))) return;
    for (const key of (await t.client.smembers(WORKERS)).sort()) {
      const [beat, job, queues, state] = await t.client.hmget(key, 'last_heartbeat', 'current_job', 'queues', 'state');
      const exists = beat !== null || state !== null || (await t.client.exists(key)) === 1;
      const ms = beat ? parseTimestamp(beat) : null;
      report.workers.push({ id: key.replace(/^rq:worker:/, ''), system: 'rq', db, key, lastSeen: ms === null ? null : new Date(ms).toISOString(), ageSec: ageSince(ctx.now, ms), alive: exists, currentJob: job || null, ...(queues ? { queues: queues.split(',') } : {}) });
    }
  },
  async orphans(t, db, refs, report, ctx) {
    for (const q of refs) {
      for (const id of await t.client.zrangebyscore(q.keys.wip, '-inf', ctx.now / 1000)) {
        report.orphans.push({ system: 'rq', db, queue: q.name, key: q.keys.wip, job: id, worker: null, reason: 'its started-registry entry expired: the worker stopped heart-beating for it', requeueable: false });
      }
    }
  },
  async forget(t, w) {
    if (await t.client.exists(w.key!)) return 0;
    const gone = await t.client.srem(WORKERS, w.key!);
    for (const q of w.queues ?? []) await t.client.srem(`rq:workers:${q}`, w.key!);
    return gone;
  },
};

async function rqJob(t: Target, id: string, from: string): Promise<PeekedJob> {
  const h = await t.client.hmget(`rq:job:${id}`, 'description', 'status', 'enqueued_at', 'ended_at', 'origin');
  // RQ's job `data` is pickled (binary): shown by its description instead.
  return { from, id, info: { description: h[0], status: h[1], enqueued_at: h[2], ended_at: h[3], origin: h[4] } };
}
