import type { Target } from '../../connect/target.js';
import { utf8OrNull } from '../../keyname.js';
import { walkKeys } from '../../scan/walk.js';
import { parseTimestamp } from '../../ttl/age.js';
import { loadScript, runScript } from '../../scripts/loader.js';
import type { MoveSpec } from '../move.js';
import { ageSince, asJob, enqueuedAt, sizeOf, tailFirst } from '../jobs.js';
import { jobId, readFields, topLevelField, withField } from '../jsonField.js';
import { DEFAULT_FIELDS, type HomegrownRef } from '../model.js';
import { ROLES } from '../roles.js';
import type { QueueAdapter, Seen } from './adapter.js';

/**
 * Home-grown queues (the seeds' teams): a main LIST named like a queue, and
 * companions found by name beside it (priority ZSET, retry and dead-letter
 * lists, a processing SET or LIST, per-worker processing lists); workers
 * write heartbeat hashes (config `workers.heartbeats`). No fixed layout: the
 * config file can name every key.
 */
const QUEUE_WORD = /(^|[_:.-])(queue|queues|jobs|tasks)([_:.-]|$)/i;
const COMPANION_WORD = /(retry|dead|dlq|processing|priority|failed)/i;
/**
 * What a home-grown main list is called: `tts_queue`, `emails:queue`,
 * `queue:{name}` (one segment after, as seed 004), `x_jobs`. Names with
 * more segments (`queue:events:17:4711`) are data, not queues: a keyspace can
 * hold 100k such lists.
 */
const MAIN_SHAPE = /(^|[_:.-])(queue|jobs|tasks)$|^(queue|jobs|tasks)[:_][^:]+$/i;
/** Processing sets shared by a database's queues (seed 000's `processing_requests`). */
const SHARED_PROCESSING = ['processing_requests', 'processing'];

/**
 * Whether discovery finds a home-grown queue by this name: `queue enqueue
 * --new` creates only queues the other queue commands can find again.
 */
export function isDiscoverableMain(name: string): boolean {
  return MAIN_SHAPE.test(name) && !COMPANION_WORD.test(name) && !name.startsWith('rq:') && !/[*?[\]\s]/.test(name);
}

/** Companion keys of a home-grown main list, by role, in the order they are tried. */
export function companionNames(main: string): Record<'priority' | 'retry' | 'dead' | 'processing', string[]> {
  const stem = main.replace(/[_:]queue$/i, '');
  return {
    priority: [`${main}_priority`, `${main}:priority`, `${stem}_priority_queue`, `${stem}_priority`],
    retry: [`${main}_retry`, `${main}:retry`, `${stem}_retry_queue`, `${main}_retry_queue`, `${stem}_retry`],
    dead: [`${stem}_dead_letter_queue`, `${main}_dead_letter_queue`, `${main}:dead`, `${main}_dead`, `${stem}_dead_letter`, `${main}_dlq`, `${main}:dlq`, `${stem}_dlq`],
    processing: [`${main}:processing`, `${main}_processing`, `${stem}_processing`, `${stem}:processing`],
  };
}

/**
 * The conventional name of a companion that does not exist (yet): an empty
 * retry or dead-letter list is not in Redis, but a drain from it is simply empty.
 */
export function conventionalCompanion(main: string, role: 'retry' | 'dead'): string {
  const underscore = /_queue$/i.test(main);
  const stem = main.replace(/[_:]queue$/i, '');
  if (role === 'retry') return underscore ? `${stem}_retry_queue` : `${main}:retry`;
  return underscore ? `${stem}_dead_letter_queue` : `${main}:dead`;
}

const retryKey = (ref: HomegrownRef) => ref.keys.retry ?? conventionalCompanion(ref.keys.main, 'retry');
const deadKey = (ref: HomegrownRef) => ref.keys.dead ?? conventionalCompanion(ref.keys.main, 'dead');

/** A queue `queue enqueue --new` is about to create: just its main list. */
export function newHomegrownQueue(name: string, db: number): HomegrownRef {
  return { name, system: 'homegrown', db, keys: { main: name }, fields: DEFAULT_FIELDS, declared: false };
}

/** The main queue a companion key's name points to (`tts_retry_queue` → `tts_queue`), or null. */
export function mainOf(name: string): string | null {
  const m = /^(.+?)(?:_retry_queue|_dead_letter_queue|_priority_queue)$/.exec(name);
  if (m) return `${m[1]}_queue`;
  const n = /^(.+?)(?::retry|:dead|:dlq|:processing(?::.+)?|_priority|_retry|_dlq)$/.exec(name);
  if (n?.[1] && QUEUE_WORD.test(n[1])) return n[1];
  return null;
}

export const homegrown: QueueAdapter<HomegrownRef> = {
  system: 'homegrown',
  roles: ROLES.homegrown,
  declare: (q, base) => ({ ...base, system: 'homegrown', keys: { main: q.name, ...q.keys } }),
  async completeDeclared(t, pairs, signal) {
    for (const { ref } of pairs) {
      // keys.processing may be a pattern of per-worker lists (`tts_queue:processing:*`): one SCAN MATCH finds them.
      const pattern = ref.keys.processing;
      if (pattern?.includes('*')) ref.workerLists = await matchingKeys(t, pattern, signal);
    }
    // Companions of a queue declared by name alone, found as discovery finds
    // them; keys named in the config are the whole layout.
    const homes = pairs.filter((p) => !p.q.keys).map((p) => p.ref);
    if (homes.length) attachCompanions(homes, await companionCandidates(t, homes.map((r) => r.keys.main)));
  },

  nameCanMatter: (name) => QUEUE_WORD.test(name) || MAIN_SHAPE.test(name) || COMPANION_WORD.test(name) || SHARED_PROCESSING.includes(name),
  worthKeeping: (name, type) => (type === 'list' && (MAIN_SHAPE.test(name) || COMPANION_WORD.test(name)))
    || (type === 'set' && COMPANION_WORD.test(name)) || (type === 'zset' && (COMPANION_WORD.test(name) || QUEUE_WORD.test(name))),
  // Last of the adapters: what is left that looks like a main list, with its companions.
  async discover(_t, db, seen, claimed) {
    const mains = new Set([...seen].filter(([name, s]) => s.type === 'list' && !claimed.has(name) && MAIN_SHAPE.test(name) && !COMPANION_WORD.test(name) && !name.startsWith('rq:')).map(([n]) => n));
    // An empty main list does not exist in Redis: its companions still name it.
    for (const name of seen.keys()) {
      if (claimed.has(name)) continue;
      const main = mainOf(name);
      if (main && MAIN_SHAPE.test(main) && !seen.has(main) && !claimed.has(main)) mains.add(main);
    }
    const homes: HomegrownRef[] = [...mains].sort().map((main) => ({ name: main, system: 'homegrown', db, keys: { main }, fields: DEFAULT_FIELDS, declared: false }));
    attachCompanions(homes, seen, claimed);
    return homes;
  },

  count: (t, refs, now) => Promise.all(refs.map(async (ref) => {
    const c = t.client;
    const k = ref.keys;
    const size = async (key: string | undefined) => (key === undefined || key.includes('*') ? null : sizeOf(t, key));
    const [main, prio, retry, dead, proc, ends] = await Promise.all([
      size(k.main), size(k.priority), size(k.retry), size(k.dead), size(k.processing),
      Promise.all([c.lindexBuffer(k.main, 0), c.lindexBuffer(k.main, -1)]),
    ]);
    const perWorker = ref.workerLists ? await Promise.all(ref.workerLists.map((w) => c.llen(w))) : [];
    const active = proc === null && !perWorker.length ? null : (proc ?? 0) + perWorker.reduce((a, b) => a + b, 0);
    const stamps = ends.map((b) => (b ? enqueuedAt(b.toString('utf8'), ref.fields.enqueuedAt) : null)).filter((x): x is number => x !== null);
    return { waiting: (main ?? 0) + (prio ?? 0), active, delayed: null, retry, dead, completed: null, oldestWaitingAgeSec: ageSince(now, stamps.length ? Math.min(...stamps) : null) };
  })),

  // The seeds' producers LPUSH; workers pop from the tail.
  waitingList: (ref) => ({ key: ref.keys.main, newest: 'head' }),
  async peek(t, ref, n) {
    const k = ref.keys;
    const out = [];
    if (k.priority && (await t.client.type(k.priority)) === 'zset') {
      for (const raw of await t.client.zrevrangeBuffer(k.priority, 0, n - 1)) out.push(asJob(k.priority, raw));
    }
    for (const raw of await tailFirst(t, k.main, n - out.length)) if (out.length < n) out.push(asJob(k.main, raw));
    return out;
  },
  async dead(t, ref, n) {
    const dead = deadKey(ref);
    return { total: await t.client.llen(dead), jobs: (await tailFirst(t, dead, n)).map((raw) => asJob(dead, raw)) };
  },

  retryDrainPlan(ref, { all, maxRetries, now }) {
    const main = ref.keys.main;
    const retry = retryKey(ref);
    const dead = deadKey(ref);
    const back: MoveSpec = { source: retry, sourceKind: 'list', target: main, targetKind: 'lpush' };
    const toDead: MoveSpec = { source: retry, sourceKind: 'list', target: dead, targetKind: 'lpush' };
    const { retryCount, nextRetryAt } = ref.fields;
    return {
      source: { key: retry, kind: 'list' },
      describe: `move ${all ? 'all' : 'due'} jobs from ${retry} back to ${main}${maxRetries !== undefined ? ` (past ${maxRetries} retries: to ${dead})` : ''}`,
      decide: (stored) => {
        const f = readFields(stored.toString('utf8'), [retryCount, nextRetryAt]);
        if (!f) return { move: false, reason: 'malformed' };
        const count = Number(f[retryCount] ?? 0);
        if (maxRetries !== undefined && Number.isFinite(count) && count >= maxRetries) return { move: true, spec: toDead, next: stored, label: 'dead', why: `retried ${count} times (--max-retries ${maxRetries})` };
        if (!all && f[nextRetryAt] !== undefined) {
          const due = parseTimestamp(f[nextRetryAt]);
          if (due === null) return { move: false, reason: 'malformed' };
          if (due > now) return { move: false, reason: 'not due' };
          return { move: true, spec: back, next: stored, label: 'retried', why: `due ${Math.round((now - due) / 1000)}s ago` };
        }
        return { move: true, spec: back, next: stored, label: 'retried', why: all ? '--all' : 'no retry time: due' };
      },
    };
  },
  deadRequeuePlan(ref) {
    const main = ref.keys.main;
    const dead = deadKey(ref);
    const spec: MoveSpec = { source: dead, sourceKind: 'list', target: main, targetKind: 'lpush' };
    return {
      source: { key: dead, kind: 'list' },
      describe: `move jobs from ${dead} back to ${main}, retry counter reset`,
      decide: (stored) => {
        const text = stored.toString('utf8');
        if (!readFields(text, [])) return { move: false, reason: 'malformed' };
        const next = topLevelField(text, ref.fields.retryCount) ? withField(text, ref.fields.retryCount, '0') : text;
        return { move: true, spec, next: Buffer.from(next), label: 'requeued', why: `in ${dead}` };
      },
    };
  },
  deadPurgePlan(ref) {
    const dead = deadKey(ref);
    const spec: MoveSpec = { source: dead, sourceKind: 'list', target: null, targetKind: 'none' };
    return { source: { key: dead, kind: 'list' }, describe: `delete the jobs in ${dead}`, decide: (stored) => ({ move: true, spec, next: stored, label: 'purged', why: `in ${dead}` }) };
  },

  enqueuePlan(ref, jobs, { priority }) {
    if (priority === undefined) return { key: ref.keys.main, payloads: jobs, write: (t, batch) => t.client.lpush(ref.keys.main, ...batch) };
    const key = ref.keys.priority ?? `${ref.keys.main}_priority`;
    return { key, payloads: jobs, write: (t, batch) => t.client.zadd(key, ...batch.flatMap((b) => [String(priority), b])) };
  },

  // Heartbeat hashes, by the config's layouts: one SCAN MATCH per pattern, so the server filters and only heartbeat keys are probed.
  async workers(t, db, _refs, report, ctx) {
    const layouts = ctx.heartbeats.map((h) => ({ ...h, prefix: h.pattern.split('*')[0]!, suffix: h.pattern.includes('*') ? h.pattern.slice(h.pattern.lastIndexOf('*') + 1) : '' }));
    const beats: { key: string; layout: (typeof layouts)[number] }[] = [];
    const found = new Set<string>();
    for (const layout of layouts) {
      for await (const batch of walkKeys(t, { count: 1000, match: layout.pattern, probe: { type: true }, signal: ctx.signal })) {
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
      const id = key.slice(layout.prefix.length, key.length - layout.suffix.length || undefined);
      report.workers.push({
        id, system: 'homegrown', db, key, lastSeen: ms === null ? seen : new Date(ms).toISOString(), ageSec: ageSince(ctx.now, ms),
        alive: ms !== null && ctx.now - ms <= ctx.staleAfterMs, currentJob: job || null, beat: { field: layout.lastSeen, value: seen },
      });
    }));
  },
  async orphans(t, db, refs, report) {
    const home = report.workers.filter((w) => w.system === 'homegrown');
    const owner = (id: string | null) => (id === null ? undefined : home.find((w) => w.currentJob === id));
    for (const q of refs) {
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
          report.orphans.push({ system: 'homegrown', db, queue: q.name, key: proc, job: id, worker: w?.id ?? null, reason: w ? `its worker ${w.id} is dead` : 'no worker claims it', requeueable: true, stored, requeueTo: q.keys.main });
        }
      }
      const [before, after] = proc?.includes('*') ? [proc.slice(0, proc.indexOf('*')), proc.slice(proc.lastIndexOf('*') + 1)] : [`${q.keys.main}:processing:`, ''];
      for (const list of q.workerLists ?? []) {
        const wid = list.slice(before.length, list.length - after.length);
        const w = home.find((x) => x.id === wid);
        if (w?.alive) continue;
        for (const stored of await t.client.lrangeBuffer(list, 0, -1)) {
          report.orphans.push({ system: 'homegrown', db, queue: q.name, key: list, job: jobId(stored.toString('utf8')), worker: wid, reason: w ? `its worker ${wid} is dead` : `its worker ${wid} has no heartbeat`, requeueable: true, stored, requeueTo: q.keys.main });
        }
      }
    }
  },
  forgetRefusal: (w) => (w.beat?.value == null ? 'no heartbeat field to compare' : null),
  // Compare-and-delete: a worker that beat again since it was read keeps its record.
  forget: async (t, w) => Number(await runScript(t.client, loadScript('worker-forget-1', t.serverVersion), [w.key!], [w.beat!.field, w.beat!.value!])),
};

async function matchingKeys(t: Target, pattern: string, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of walkKeys(t, { match: pattern, count: 1000, signal })) {
    for (const k of batch.keys) {
      const name = utf8OrNull(k.key);
      if (name !== null) out.push(name);
    }
  }
  return out.sort();
}

/**
 * A home-grown queue's companions (priority, retry, dead letters,
 * processing, per-worker processing lists), found by name among the keys
 * that exist: for discovered queues and for declared ones alike (a role the
 * config names explicitly is kept).
 */
export function attachCompanions(homes: HomegrownRef[], seen: Map<string, Seen>, claimed = new Set<string>()): void {
  for (const ref of homes) {
    const main = ref.keys.main;
    for (const [role, names] of Object.entries(companionNames(main)) as [keyof ReturnType<typeof companionNames>, string[]][]) {
      if (ref.keys[role]) continue;
      const hit = names.find((n) => seen.has(n) && !claimed.has(n));
      if (hit) {
        ref.keys[role] = hit;
        claimed.add(hit);
        if (role === 'processing') ref.processingType = seen.get(hit)!.type === 'set' ? 'set' : 'list';
      }
    }
    const perWorker = [...seen.keys()].filter((k) => k.startsWith(`${main}:processing:`) && seen.get(k)!.type === 'list').sort();
    if (perWorker.length && !ref.workerLists) ref.workerLists = perWorker;
  }
  // A shared processing set (seed 000's `processing_requests`) belongs to the
  // one home-grown queue that has no processing key or list of its own.
  const shared = SHARED_PROCESSING.find((n) => seen.get(n)?.type === 'set');
  const bare = homes.filter((h) => !h.keys.processing && !h.workerLists);
  if (shared && bare.length === 1) {
    bare[0]!.keys.processing = shared;
    bare[0]!.processingType = 'set';
  }
}

/** The keys a declared home-grown queue's companions could have, with their types (one TYPE each, pipelined). */
async function companionCandidates(t: Target, mains: string[]): Promise<Map<string, Seen>> {
  const names = [...new Set([...mains.flatMap((m) => Object.values(companionNames(m)).flat()), ...SHARED_PROCESSING])];
  const p = t.client.pipeline();
  for (const n of names) p.type(n);
  const replies = (await p.exec()) ?? [];
  const seen = new Map<string, Seen>();
  names.forEach((n, i) => {
    const type = String(replies[i]?.[1] ?? 'none');
    if (type !== 'none') seen.set(n, { type });
  });
  return seen;
}
