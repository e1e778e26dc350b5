import type { Target } from '../connect/target.js';
import { keyMap, type QueueCounts, type QueueInfo, type QueueRef } from './model.js';
import { bySystem } from './systems/index.js';

/**
 * Every figure of `queue stats`, read the way each system's own API counts
 * (README "Queue figures"), by the system's adapter: LLEN/ZCARD/SCARD where
 * a state has its own key, one pass over keys several queues share
 * (Sidekiq's sorted sets, Celery's `unacked`). Read-only.
 */
export async function countQueues(t: Target, refs: QueueRef[], now = Date.now()): Promise<QueueInfo[]> {
  const counts = new Map<QueueRef, QueueCounts>();
  await Promise.all(bySystem(refs).map(async ({ adapter, refs: group }) => {
    const got = await adapter.count(t, group, now);
    group.forEach((ref, i) => counts.set(ref, got[i]!));
  }));
  return refs.map((ref) => ({ name: ref.name, system: ref.system, db: ref.db, ...counts.get(ref)!, keys: keyMap(ref) }));
}
