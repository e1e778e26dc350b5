import type { Target } from '../connect/target.js';
import type { PeekedJob } from './jobs.js';
import type { QueueRef } from './model.js';
import { adapterOf } from './systems/index.js';

export type { PeekedJob } from './jobs.js';

/**
 * Reading jobs without taking them: the next ones a worker would get (peek)
 * and the dead letters (dead list), each the way its system stores them.
 * Read-only: LRANGE, ZRANGE, HGETALL.
 */
export function peekJobs(t: Target, ref: QueueRef, n: number): Promise<PeekedJob[]> {
  return adapterOf(ref).peek(t, ref, n);
}

/** The dead letters: home-grown dead list (oldest first), Sidekiq `dead` for the queue, BullMQ failed, RQ failed registry. */
export function deadJobs(t: Target, ref: QueueRef, n: number): Promise<{ total: number | null; jobs: PeekedJob[] }> {
  return adapterOf(ref).dead(t, ref, n);
}
