import { DEFAULT_FIELDS, type JobFields, type QueueRef, type QueueSystem, type RefOf } from '../model.js';
import type { DeclaredQueue } from '../config.js';
import type { Adapters, QueueAdapter } from './adapter.js';
import { bullmq } from './bullmq.js';
import { celery } from './celery.js';
import { homegrown } from './homegrown.js';
import { rq } from './rq.js';
import { sidekiq } from './sidekiq.js';

/**
 * The queue systems redis-ops knows. Adding one is a file in this folder
 * (an adapter), a line here and in QueueSystem, and its tests against the
 * system's real client.
 */
export const ADAPTERS: Adapters = { homegrown, sidekiq, bullmq, rq, celery };

/**
 * The order discovery asks them in: systems with fixed layouts claim their
 * keys first, so home-grown (matched by name shape) sees only what is left.
 */
export const DISCOVERY_ORDER: QueueSystem[] = ['sidekiq', 'rq', 'celery', 'bullmq', 'homegrown'];

/** The adapter of a ref's system, typed for that ref. */
export function adapterOf<R extends QueueRef>(ref: R): QueueAdapter<R> {
  return ADAPTERS[ref.system] as unknown as QueueAdapter<R>;
}

/** Refs grouped by system, each group with its adapter (in the refs' first-seen order). */
export function bySystem(refs: QueueRef[]): { adapter: QueueAdapter; refs: QueueRef[] }[] {
  const groups = new Map<QueueSystem, QueueRef[]>();
  for (const r of refs) groups.set(r.system, [...(groups.get(r.system) ?? []), r]);
  return [...groups].map(([system, group]) => ({ adapter: ADAPTERS[system] as unknown as QueueAdapter, refs: group }));
}

/** The refs of one system, typed as that system's refs. */
export function refsOf<S extends QueueSystem>(refs: QueueRef[], system: S): RefOf<S>[] {
  return refs.filter((r): r is RefOf<S> => r.system === system);
}

/** A system's adapter, typed for its refs. */
export function adapterFor<S extends QueueSystem>(system: S): QueueAdapter<RefOf<S>> {
  return ADAPTERS[system];
}

/** A declared queue as the counters see it: its adapter builds the keys discovery would find; names given in the config win. */
export function declaredRef(q: DeclaredQueue, defaultDb: number): QueueRef {
  const fields: JobFields = { ...DEFAULT_FIELDS };
  for (const [f, v] of Object.entries(q.fields ?? {})) (fields as unknown as Record<string, unknown>)[f] = f === 'enqueuedAt' || f === 'id' ? [v].flat() : v;
  return adapterFor(q.system).declare(q, { name: q.name, db: q.db ?? defaultDb, fields, maxRetries: q.maxRetries, declared: true });
}
