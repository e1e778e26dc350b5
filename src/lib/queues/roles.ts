import type { QueueSystem } from './model.js';

/**
 * The key roles of each queue system: what a declared queue may name under
 * `keys` in the config file, and (model.ts) the shape of each system's key
 * map. Data only, so the config file can be checked at start-up without
 * loading the adapters.
 */
export const ROLES = {
  homegrown: ['main', 'priority', 'retry', 'dead', 'processing'],
  sidekiq: ['queue', 'schedule', 'retry', 'dead', 'processes'],
  bullmq: ['wait', 'paused', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'waiting-children', 'meta'],
  rq: ['queue', 'wip', 'scheduled', 'deferred', 'failed', 'finished'],
  celery: ['queue', 'unacked', 'unackedIndex'],
} as const satisfies Record<QueueSystem, readonly string[]>;

export type RoleOf<S extends QueueSystem> = (typeof ROLES)[S][number];
