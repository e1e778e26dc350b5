import type { Target } from '../connect/target.js';
import { bullmqKeys, celeryKeys, rqKeys, sidekiqKeys } from './keys.js';
import { utf8OrNull } from '../keyname.js';
import { walkKeys } from '../scan/walk.js';
import { DEFAULT_FIELDS, type QueueRef } from './model.js';

/**
 * Finds queues by the shapes their libraries leave in the keyspace (one walk
 * with the foundation's scan engine; see README "How queues are found").
 * Only names that can belong to a queue are kept, so memory stays small on
 * a big keyspace.
 */
const KOMBU_SEP = '\x06\x16';
const BULL_SUFFIXES = new Set(['meta', 'wait', 'active', 'paused', 'prioritized', 'delayed', 'completed', 'failed', 'id', 'events', 'waiting-children', 'stalled-check', 'marker', 'stalled', 'pc', 'limiter', 'repeat']);
const QUEUE_WORD = /(^|[_:.-])(queue|queues|jobs|tasks)([_:.-]|$)/i;
const COMPANION_WORD = /(retry|dead|dlq|processing|priority|failed)/i;
/**
 * What a home-grown main list is called: `tts_queue`, `emails:queue`,
 * `queue:{name}` (one segment after, as seed 004), `x_jobs`. Names with
 * more segments (`queue:events:17:4711`) are data, not queues: a keyspace can
 * hold 100k such lists.
 */
const MAIN_SHAPE = /(^|[_:.-])(queue|jobs|tasks)$|^(queue|jobs|tasks)[:_][^:]+$/i;

/**
 * Whether discovery finds a home-grown queue by this name: `queue enqueue
 * --new` creates only queues the other queue commands can find again.
 */
export function isDiscoverableMain(name: string): boolean {
  return MAIN_SHAPE.test(name) && !COMPANION_WORD.test(name) && !name.startsWith('rq:') && !/[*?[\]\s]/.test(name);
}

/** Companion keys of a home-grown main list, by role, in the order they are tried. */
export function companionNames(main: string): Record<string, string[]> {
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

/** The main queue a companion key's name points to (`tts_retry_queue` → `tts_queue`), or null. */
export function mainOf(name: string): string | null {
  const m = /^(.+?)(?:_retry_queue|_dead_letter_queue|_priority_queue)$/.exec(name);
  if (m) return `${m[1]}_queue`;
  const n = /^(.+?)(?::retry|:dead|:dlq|:processing(?::.+)?|_priority|_retry|_dlq)$/.exec(name);
  if (n?.[1] && QUEUE_WORD.test(n[1])) return n[1];
  return null;
}

/** Processing sets shared by a database's queues (seed 000's `processing_requests`). */
const SHARED_PROCESSING = ['processing_requests', 'processing'];

export interface Seen { type: string }

export async function detectQueues(t: Target, db: number, signal?: AbortSignal): Promise<QueueRef[]> {
  const seen = new Map<string, Seen>();
  // Names first, types after: only the few keys whose name can matter are
  // probed, so the walk costs about what a plain SCAN does.
  for await (const batch of walkKeys(t, { count: 1000, signal })) {
    const names: { name: string; key: Buffer }[] = [];
    for (const k of batch.keys) {
      const name = utf8OrNull(k.key);
      if (name !== null && nameCanMatter(name)) names.push({ name, key: k.key });
    }
    if (!names.length) continue;
    const node = batch.handle;
    const p = node!.client.pipeline();
    for (const n of names) p.type(n.key);
    const types = (await p.exec()) ?? [];
    names.forEach(({ name }, i) => {
      const type = String(types[i]?.[1] ?? 'none');
      if (worthKeeping(name, type)) seen.set(name, { type });
    });
  }
  return resolve(t, db, seen);
}

const SHARED_NAMES = new Set(['queues', 'rq:queues', 'processes', 'retry', 'schedule', 'dead', 'unacked', ...SHARED_PROCESSING]);

function nameCanMatter(name: string): boolean {
  return SHARED_NAMES.has(name) || QUEUE_WORD.test(name) || MAIN_SHAPE.test(name) || COMPANION_WORD.test(name)
    || name.includes(KOMBU_SEP) || name.startsWith('rq:') || name.startsWith('_kombu.binding.') || isBull(name);
}

function worthKeeping(name: string, type: string): boolean {
  if (type === 'list') return MAIN_SHAPE.test(name) || COMPANION_WORD.test(name) || name.includes(KOMBU_SEP) || name.startsWith('rq:');
  if (type === 'set') return name === 'queues' || name === 'rq:queues' || name.startsWith('_kombu.binding.') || COMPANION_WORD.test(name) || name === 'processes';
  if (type === 'zset') return COMPANION_WORD.test(name) || QUEUE_WORD.test(name) || ['retry', 'schedule', 'dead'].includes(name) || isBull(name);
  if (type === 'hash') return name.endsWith(':meta') || name === 'unacked';
  if (type === 'string') return name.endsWith(':id');
  if (type === 'stream') return name.endsWith(':events');
  return false;
}

function isBull(name: string): boolean {
  const i = name.lastIndexOf(':');
  return i > 0 && BULL_SUFFIXES.has(name.slice(i + 1));
}

async function members(t: Target, key: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, got] = await t.client.sscan(key, cursor, 'COUNT', 1000);
    cursor = next;
    out.push(...got);
  } while (cursor !== '0');
  return out;
}

async function resolve(t: Target, db: number, seen: Map<string, Seen>): Promise<QueueRef[]> {
  const refs: QueueRef[] = [];
  const claimed = new Set<string>();
  const base = (system: QueueRef['system'], name: string, keys: Record<string, string>): QueueRef =>
    ({ name, system, db, keys, fields: DEFAULT_FIELDS, declared: false });

  if (seen.get('queues')?.type === 'set') {
    for (const q of (await members(t, 'queues')).sort()) {
      refs.push(base('sidekiq', q, sidekiqKeys(q)));
      claimed.add(`queue:${q}`);
    }
  }
  if (seen.get('rq:queues')?.type === 'set') {
    for (const key of (await members(t, 'rq:queues')).sort()) {
      const q = key.replace(/^rq:queue:/, '');
      refs.push(base('rq', q, { ...rqKeys(q), queue: key }));
    }
  }
  for (const name of seen.keys()) if (name.startsWith('rq:')) claimed.add(name);

  const celeryQueues = new Set<string>();
  for (const [name, s] of seen) {
    if (s.type !== 'set' || !name.startsWith('_kombu.binding.')) continue;
    for (const m of await members(t, name)) {
      const q = m.split(KOMBU_SEP)[2];
      if (q && !q.endsWith('.pidbox') && !q.startsWith('celeryev.')) celeryQueues.add(q);
    }
  }
  for (const q of [...celeryQueues].sort()) {
    const subs = [...seen.keys()].filter((k) => k.startsWith(q + KOMBU_SEP)).sort();
    refs.push({ ...base('celery', q, celeryKeys(q)), priorityLists: subs });
    claimed.add(q);
    for (const s of subs) claimed.add(s);
  }

  const bull = new Map<string, Set<string>>();
  for (const name of seen.keys()) {
    if (!isBull(name)) continue;
    const i = name.lastIndexOf(':');
    const b = name.slice(0, i);
    if (!bull.has(b)) bull.set(b, new Set());
    bull.get(b)!.add(name.slice(i + 1));
  }
  for (const [b, suffixes] of [...bull].sort()) {
    if (!suffixes.has('meta') && !suffixes.has('id')) continue;
    const i = b.lastIndexOf(':');
    if (i <= 0) continue;
    const prefix = b.slice(0, i);
    const q = b.slice(i + 1);
    refs.push({ ...base('bullmq', q, bullmqKeys(prefix, q)), prefix });
    for (const s of suffixes) claimed.add(`${b}:${s}`);
  }

  // Home-grown: what is left that looks like a main list, with its companions.
  const mains = new Set([...seen].filter(([name, s]) => s.type === 'list' && !claimed.has(name) && MAIN_SHAPE.test(name) && !COMPANION_WORD.test(name) && !name.startsWith('rq:')).map(([n]) => n));
  // An empty main list does not exist in Redis: its companions still name it.
  for (const name of seen.keys()) {
    if (claimed.has(name)) continue;
    const main = mainOf(name);
    if (main && MAIN_SHAPE.test(main) && !seen.has(main) && !claimed.has(main)) mains.add(main);
  }
  const homes = [...mains].sort().map((main) => base('homegrown', main, { main }));
  attachCompanions(homes, seen, claimed);
  return [...homes, ...refs];
}

/**
 * A home-grown queue's companions (priority, retry, dead letters,
 * processing, per-worker processing lists), found by name among the keys
 * that exist: for discovered queues and for declared ones alike (a role the
 * config names explicitly is kept).
 */
export function attachCompanions(homes: QueueRef[], seen: Map<string, Seen>, claimed = new Set<string>()): void {
  for (const ref of homes) {
    const main = ref.keys.main!;
    for (const [role, names] of Object.entries(companionNames(main))) {
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
export async function companionCandidates(t: Target, mains: string[]): Promise<Map<string, Seen>> {
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
