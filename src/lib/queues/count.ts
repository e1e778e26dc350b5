import type { Target } from '../connect/target.js';
import { parseTimestamp } from '../ttl/age.js';
import { jobId, readFields, topLevelField } from './jsonField.js';
import type { QueueCounts, QueueInfo, QueueRef } from './model.js';

/**
 * Every figure of `queue stats`, read the way each system's own API counts
 * (README "Queue figures"): LLEN/ZCARD/SCARD where the state has its own key,
 * one pass over Sidekiq's shared sorted sets and Celery's `unacked` where
 * entries of all queues share a key. Read-only: RQ's own `count` runs a
 * cleanup that writes, so its registries are counted with ZCARD.
 */
export async function countQueues(t: Target, refs: QueueRef[], now = Date.now()): Promise<QueueInfo[]> {
  const sidekiq = refs.some((r) => r.system === 'sidekiq') ? await sidekiqShared(t) : null;
  const celery = refs.some((r) => r.system === 'celery') ? await celeryUnacked(t) : null;
  return Promise.all(refs.map(async (ref) => {
    const counts = await countOne(t, ref, now, sidekiq, celery);
    return { name: ref.name, system: ref.system, db: ref.db, ...counts, keys: ref.keys };
  }));
}

async function countOne(t: Target, ref: QueueRef, now: number, sk: SidekiqShared | null, celery: Map<string, number> | null): Promise<QueueCounts> {
  const c = t.client;
  const k = ref.keys;
  const age = (ms: number | null) => (ms === null ? null : Math.max(0, Math.round((now - ms) / 100) / 10));
  switch (ref.system) {
    case 'homegrown': {
      const size = async (key: string | undefined) => (key === undefined || key.includes('*') ? null : sizeOf(t, key));
      const [main, prio, retry, dead, proc, ends] = await Promise.all([
        size(k.main), size(k.priority), size(k.retry), size(k.dead), size(k.processing),
        Promise.all([c.lindexBuffer(k.main!, 0), c.lindexBuffer(k.main!, -1)]),
      ]);
      const perWorker = ref.workerLists ? await Promise.all(ref.workerLists.map((w) => c.llen(w))) : [];
      const active = proc === null && !perWorker.length ? null : (proc ?? 0) + perWorker.reduce((a, b) => a + b, 0);
      const stamps = ends.map((b) => (b ? enqueuedAt(b.toString('utf8'), ref.fields.enqueuedAt) : null)).filter((x): x is number => x !== null);
      return { waiting: (main ?? 0) + (prio ?? 0), active, delayed: null, retry, dead, completed: null, oldestWaitingAgeSec: age(stamps.length ? Math.min(...stamps) : null) };
    }
    case 'sidekiq': {
      const [waiting, oldest] = await Promise.all([c.llen(k.queue!), c.lindex(k.queue!, -1)]);
      const of = (m: Map<string, number> | undefined) => m?.get(ref.name) ?? 0;
      return {
        waiting, active: of(sk?.work), delayed: of(sk?.schedule), retry: of(sk?.retry), dead: of(sk?.dead), completed: null,
        oldestWaitingAgeSec: age(oldest ? enqueuedAt(oldest, ['enqueued_at', 'created_at']) : null),
      };
    }
    case 'bullmq': {
      const [wait, paused, prio, active, delayed, failed, completed, oldestId] = await Promise.all([
        c.llen(k.wait!), c.llen(k.paused!), c.zcard(k.prioritized!), c.llen(k.active!), c.zcard(k.delayed!),
        c.zcard(k.failed!), c.zcard(k.completed!), c.lindex(k.wait!, -1),
      ]);
      const stamp = oldestId ? await c.hget(`${ref.prefix}:${ref.name}:${oldestId}`, 'timestamp') : null;
      return { waiting: wait + paused + prio, active, delayed, retry: null, dead: failed, completed, oldestWaitingAgeSec: age(stamp ? parseTimestamp(stamp) : null) };
    }
    case 'rq': {
      const [waiting, wip, scheduled, deferred, failed, finished, oldestId] = await Promise.all([
        c.llen(k.queue!), c.zcard(k.wip!), c.zcard(k.scheduled!), c.zcard(k.deferred!), c.zcard(k.failed!), c.zcard(k.finished!), c.lindex(k.queue!, 0),
      ]);
      const stamp = oldestId ? await c.hget(`rq:job:${oldestId}`, 'enqueued_at') : null;
      return { waiting, active: wip, delayed: scheduled + deferred, retry: null, dead: failed, completed: finished, oldestWaitingAgeSec: age(stamp ? parseTimestamp(stamp) : null) };
    }
    case 'celery': {
      const subs = ref.priorityLists ?? (ref.declared ? [1, 2, 3, 4, 5, 6, 7, 8, 9].map((p) => `${k.queue}\x06\x16${p}`) : []);
      const sizes = await Promise.all([k.queue, ...subs].map((q) => c.llen(q!)));
      // Celery messages carry no enqueue time: the oldest age is unknown, not zero.
      return { waiting: sizes.reduce((a, b) => a + b, 0), active: celery?.get(ref.name) ?? 0, delayed: null, retry: null, dead: null, completed: null, oldestWaitingAgeSec: null };
    }
  }
}

/** The size of a key whatever its type; 0 when it does not exist. */
export async function sizeOf(t: Target, key: string): Promise<number> {
  const type = await t.client.type(key);
  if (type === 'list') return t.client.llen(key);
  if (type === 'zset') return t.client.zcard(key);
  if (type === 'set') return t.client.scard(key);
  if (type === 'hash') return t.client.hlen(key);
  return 0;
}

export function enqueuedAt(text: string, fields: string[]): number | null {
  const f = readFields(text, fields);
  if (!f) return null;
  for (const name of fields) if (f[name] !== undefined && f[name] !== null) return parseTimestamp(f[name]);
  return null;
}

interface SidekiqShared {
  schedule: Map<string, number>;
  retry: Map<string, number>;
  dead: Map<string, number>;
  work: Map<string, number>;
}

/** Per-queue counts of Sidekiq's shared sets, in one ZSCAN pass each (as Sidekiq's API iterates them). */
async function sidekiqShared(t: Target): Promise<SidekiqShared> {
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
  const [schedule, retry, dead, work] = await Promise.all([perQueue('schedule'), perQueue('retry'), perQueue('dead'), sidekiqWorkPerQueue(t)]);
  return { schedule, retry, dead, work };
}

/**
 * A Sidekiq process's jobs in flight: its work hash, `{identity}:workers`
 * up to 6.x, `{identity}:work` from 7.
 */
export async function sidekiqWork(t: Target, identity: string): Promise<{ queue: string | null; jid: string | null }[]> {
  const work = { ...(await t.client.hgetall(`${identity}:workers`)), ...(await t.client.hgetall(`${identity}:work`)) };
  return Object.values(work).map((w) => {
    const payload = topLevelField(w, 'payload')?.value;
    const queue = topLevelField(w, 'queue')?.value;
    return { queue: typeof queue === 'string' ? queue : null, jid: jobId(typeof payload === 'string' ? payload : JSON.stringify(payload ?? {})) };
  });
}

/** Jobs in flight per queue: the work hashes of processes whose heartbeat still exists (Sidekiq's WorkSet). */
async function sidekiqWorkPerQueue(t: Target): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  const procs = await t.client.smembers('processes');
  for (const p of procs) {
    if (!(await t.client.exists(p))) continue;
    for (const { queue } of await sidekiqWork(t, p)) if (queue) m.set(queue, (m.get(queue) ?? 0) + 1);
  }
  return m;
}

/**
 * Celery's delivered-but-unacknowledged messages per queue. kombu stores
 * [message, exchange, routing_key]; the queue comes from the exchange's
 * bindings (`_kombu.binding.{exchange}`: routing_key, pattern, queue).
 */
async function celeryUnacked(t: Target): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  const bindings = new Map<string, string[][]>();
  let cursor = '0';
  do {
    const [next, flat] = await t.client.hscan('unacked', cursor, 'COUNT', 1000);
    cursor = next;
    for (let i = 1; i < flat.length; i += 2) {
      let entry: unknown;
      try {
        entry = JSON.parse(flat[i]!);
      } catch {
        continue;
      }
      if (!Array.isArray(entry)) continue;
      const [, exchange, routingKey] = entry as [unknown, string, string];
      if (!bindings.has(exchange)) bindings.set(exchange, (await t.client.smembers(`_kombu.binding.${exchange}`)).map((b) => b.split('\x06\x16')));
      const queues = new Set(bindings.get(exchange)!.filter(([rk]) => rk === routingKey).map((b) => b[2]));
      if (!queues.size && routingKey) queues.add(routingKey);
      for (const q of queues) m.set(q!, (m.get(q!) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return m;
}
