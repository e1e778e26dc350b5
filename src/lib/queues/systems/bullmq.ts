import type { Target } from '../../connect/target.js';
import { parseTimestamp } from '../../ttl/age.js';
import { ageSince, type PeekedJob } from '../jobs.js';
import { DEFAULT_FIELDS, type BullmqKeys, type BullmqRef } from '../model.js';
import { ROLES } from '../roles.js';
import { refuse, type QueueAdapter } from './adapter.js';

/**
 * BullMQ: every queue's keys under `{prefix}:{queue}:` (as BullMQ's own
 * QueueKeys builds them), a HASH per job (`{prefix}:{queue}:{id}`), and a
 * lock per active job. Workers are connections named `{prefix}:{base64
 * queue}` (CLIENT LIST).
 */
export function bullmqKeys(prefix: string, queue: string): BullmqKeys {
  const base = `${prefix}:${queue}`;
  return Object.fromEntries(ROLES.bullmq.map((role) => [role, `${base}:${role}`])) as BullmqKeys;
}

const SUFFIXES = new Set(['meta', 'wait', 'active', 'paused', 'prioritized', 'delayed', 'completed', 'failed', 'id', 'events', 'waiting-children', 'stalled-check', 'marker', 'stalled', 'pc', 'limiter', 'repeat']);

function isBull(name: string): boolean {
  const i = name.lastIndexOf(':');
  return i > 0 && SUFFIXES.has(name.slice(i + 1));
}

const jobKey = (ref: BullmqRef, id: string) => `${ref.prefix}:${ref.name}:${id}`;

export const bullmq: QueueAdapter<BullmqRef> = {
  system: 'bullmq',
  roles: ROLES.bullmq,
  declare(q, base) {
    const prefix = q.prefix ?? 'bull';
    return { ...base, system: 'bullmq', prefix, keys: { ...bullmqKeys(prefix, q.name), ...q.keys } };
  },

  nameCanMatter: isBull,
  worthKeeping: (name, type) => (type === 'zset' && isBull(name)) || (type === 'hash' && name.endsWith(':meta'))
    || (type === 'string' && name.endsWith(':id')) || (type === 'stream' && name.endsWith(':events')),
  async discover(_t, db, seen, claimed) {
    const bases = new Map<string, Set<string>>();
    for (const name of seen.keys()) {
      if (!isBull(name)) continue;
      const i = name.lastIndexOf(':');
      const b = name.slice(0, i);
      if (!bases.has(b)) bases.set(b, new Set());
      bases.get(b)!.add(name.slice(i + 1));
    }
    const refs: BullmqRef[] = [];
    for (const [b, suffixes] of [...bases].sort()) {
      if (!suffixes.has('meta') && !suffixes.has('id')) continue;
      const i = b.lastIndexOf(':');
      if (i <= 0) continue;
      const prefix = b.slice(0, i);
      const q = b.slice(i + 1);
      refs.push({ name: q, system: 'bullmq', db, keys: bullmqKeys(prefix, q), prefix, fields: DEFAULT_FIELDS, declared: false });
      for (const s of suffixes) claimed.add(`${b}:${s}`);
    }
    return refs;
  },

  count: (t, refs, now) => Promise.all(refs.map(async (ref) => {
    const c = t.client;
    const k = ref.keys;
    const [wait, paused, prio, active, delayed, failed, completed, oldestId] = await Promise.all([
      c.llen(k.wait), c.llen(k.paused), c.zcard(k.prioritized), c.llen(k.active), c.zcard(k.delayed),
      c.zcard(k.failed), c.zcard(k.completed), c.lindex(k.wait, -1),
    ]);
    const stamp = oldestId ? await c.hget(jobKey(ref, oldestId), 'timestamp') : null;
    return { waiting: wait + paused + prio, active, delayed, retry: null, dead: failed, completed, oldestWaitingAgeSec: ageSince(now, stamp ? parseTimestamp(stamp) : null) };
  })),

  // addJob LPUSHes to wait; a worker moves jobs from its tail (LMOVE RIGHT LEFT).
  waitingList: (ref) => ({ key: ref.keys.wait, newest: 'head' }),
  async peek(t, ref, n) {
    const ids = [...await t.client.zrange(ref.keys.prioritized, 0, n - 1), ...(await t.client.lrange(ref.keys.wait, -n, -1)).reverse()].slice(0, n);
    return Promise.all(ids.map((id) => bullJob(t, ref, id, ref.keys.wait)));
  },
  async dead(t, ref, n) {
    const ids = await t.client.zrevrange(ref.keys.failed, 0, n - 1);
    return { total: await t.client.zcard(ref.keys.failed), jobs: await Promise.all(ids.map((id) => bullJob(t, ref, id, ref.keys.failed))) };
  },

  retryDrainPlan: () => { throw refuse.retryDrain('bullmq', 'failed attempts wait in delayed'); },
  deadRequeuePlan: () => { throw refuse.deadWrite('bullmq'); },
  deadPurgePlan: () => { throw refuse.deadWrite('bullmq'); },
  enqueuePlan: () => { throw refuse.enqueue('bullmq'); },

  async workers(t, db, refs, report, ctx) {
    if (!refs.length) return;
    const names = new Map(refs.map((q) => [`${q.prefix}:${Buffer.from(q.name).toString('base64')}`, q.name]));
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
          report.workers.push({ id: f.name.startsWith(`${base}:w:`) ? f.name.slice(base.length + 3) : `${f.addr}`, system: 'bullmq', db, key: f.name, lastSeen: new Date(ctx.now - idle * 1000).toISOString(), ageSec: idle, alive: true, currentJob: null, queues: [queue] });
        }
      }
    }
  },
  async orphans(t, db, refs, report) {
    for (const q of refs) {
      const ids = await t.client.lrange(q.keys.active, 0, -1);
      const locks = await Promise.all(ids.map((id) => t.client.exists(`${jobKey(q, id)}:lock`)));
      ids.forEach((id, i) => {
        if (!locks[i]) report.orphans.push({ system: 'bullmq', db, queue: q.name, key: q.keys.active, job: id, worker: null, reason: 'active without its lock: stalled (BullMQ\'s stalled-job check moves it back)', requeueable: false });
      });
    }
  },
  // A BullMQ worker is a live connection: it is never forgotten, it disconnects.
};

async function bullJob(t: Target, ref: BullmqRef, id: string, from: string): Promise<PeekedJob> {
  const h = await t.client.hgetall(jobKey(ref, id));
  let data: unknown = h.data;
  try {
    data = JSON.parse(h.data!);
  } catch { /* shown as text */ }
  const info: Record<string, unknown> = { name: h.name, timestamp: h.timestamp ? Number(h.timestamp) : null };
  if (h.failedReason !== undefined) info.failedReason = h.failedReason;
  if (h.attemptsMade !== undefined) info.attemptsMade = Number(h.attemptsMade);
  return { from, id, job: data, info };
}
