import { UsageError } from '../../../errors.js';
import type { Target } from '../../connect/target.js';
import { asJob, setMembers, tailFirst, type PeekedJob } from '../jobs.js';
import { DEFAULT_FIELDS, type CeleryKeys, type CeleryRef } from '../model.js';
import { ROLES } from '../roles.js';
import { refuse, type QueueAdapter } from './adapter.js';

/**
 * Celery (kombu's Redis transport): a LIST per queue named as the queue,
 * priority sub-lists `{queue}\x06\x16{n}`, exchange bindings in
 * `_kombu.binding.{exchange}`, and delivered-but-unacknowledged messages in
 * the HASH `unacked`. No dead letters and no worker records in Redis.
 */
export function celeryKeys(queue: string): CeleryKeys {
  return { queue, unacked: 'unacked', unackedIndex: 'unacked_index' };
}

const SEP = '\x06\x16';
const BINDING = '_kombu.binding.';

export const celery: QueueAdapter<CeleryRef> = {
  system: 'celery',
  roles: ROLES.celery,
  declare: (q, base) => ({ ...base, system: 'celery', keys: { ...celeryKeys(q.name), ...q.keys } }),

  nameCanMatter: (name) => name === 'unacked' || name.includes(SEP) || name.startsWith(BINDING),
  worthKeeping: (name, type) => (type === 'list' && name.includes(SEP)) || (type === 'set' && name.startsWith(BINDING)) || (type === 'hash' && name === 'unacked'),
  async discover(t, db, seen, claimed) {
    const queues = new Set<string>();
    for (const [name, s] of seen) {
      if (s.type !== 'set' || !name.startsWith(BINDING)) continue;
      for (const m of await setMembers(t, name)) {
        const q = m.split(SEP)[2];
        if (q && !q.endsWith('.pidbox') && !q.startsWith('celeryev.')) queues.add(q);
      }
    }
    const refs: CeleryRef[] = [];
    for (const q of [...queues].sort()) {
      const subs = [...seen.keys()].filter((k) => k.startsWith(q + SEP)).sort();
      refs.push({ name: q, system: 'celery', db, keys: celeryKeys(q), fields: DEFAULT_FIELDS, declared: false, priorityLists: subs });
      claimed.add(q);
      for (const s of subs) claimed.add(s);
    }
    return refs;
  },

  async count(t, refs) {
    const unacked = refs.length ? await unackedPerQueue(t, refs[0]!.keys.unacked) : new Map<string, number>();
    return Promise.all(refs.map(async (ref) => {
      const sizes = await Promise.all([ref.keys.queue, ...priorityLists(ref)].map((q) => t.client.llen(q)));
      // Celery messages carry no enqueue time: the oldest age is unknown, not zero.
      return { waiting: sizes.reduce((a, b) => a + b, 0), active: unacked.get(ref.name) ?? 0, delayed: null, retry: null, dead: null, completed: null, oldestWaitingAgeSec: null };
    }));
  },

  // kombu LPUSHes; a worker BRPOPs.
  waitingList: (ref) => ({ key: ref.keys.queue, newest: 'head' }),
  async peek(t, ref, n) {
    const out: PeekedJob[] = [];
    for (const q of [ref.keys.queue, ...(ref.priorityLists ?? [])]) {
      if (out.length >= n) break;
      for (const raw of await tailFirst(t, q, n - out.length)) {
        const j = asJob(q, raw);
        const headers = (j.job as { headers?: { id?: string; task?: string } } | undefined)?.headers;
        out.push({ ...j, id: headers?.id ?? j.id, info: headers?.task ? { task: headers.task } : undefined });
      }
    }
    return out;
  },
  dead: () => { throw new UsageError('Celery keeps no dead letters in Redis (failed task results live in the result backend)'); },

  retryDrainPlan: () => { throw refuse.retryDrain('celery', 'the worker retries'); },
  deadRequeuePlan: () => { throw refuse.deadWrite('celery'); },
  deadPurgePlan: () => { throw refuse.deadWrite('celery'); },
  enqueuePlan: () => { throw refuse.enqueue('celery'); },
};

/** A declared queue's priority sub-lists are not known from a walk: all nine of kombu's steps are counted (absent ones are 0). */
function priorityLists(ref: CeleryRef): string[] {
  return ref.priorityLists ?? (ref.declared ? [1, 2, 3, 4, 5, 6, 7, 8, 9].map((p) => `${ref.keys.queue}${SEP}${p}`) : []);
}

/**
 * Delivered-but-unacknowledged messages per queue. kombu stores
 * [message, exchange, routing_key]; the queue comes from the exchange's
 * bindings (`_kombu.binding.{exchange}`: routing_key, pattern, queue).
 */
async function unackedPerQueue(t: Target, key: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  const bindings = new Map<string, string[][]>();
  let cursor = '0';
  do {
    const [next, flat] = await t.client.hscan(key, cursor, 'COUNT', 1000);
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
      if (!bindings.has(exchange)) bindings.set(exchange, (await t.client.smembers(`${BINDING}${exchange}`)).map((b) => b.split(SEP)));
      const queues = new Set(bindings.get(exchange)!.filter(([rk]) => rk === routingKey).map((b) => b[2]));
      if (!queues.size && routingKey) queues.add(routingKey);
      for (const q of queues) m.set(q!, (m.get(q!) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return m;
}
