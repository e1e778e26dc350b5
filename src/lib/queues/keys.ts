/**
 * Each queue system's key names, built in one place (as BullMQ's own
 * QueueKeys does): discovery and queues declared in the config file use the
 * same builders, so a declared queue reads the same keys as a found one.
 * Home-grown queues have no fixed layout: their companions are found by name
 * (companionNames in detect.ts).
 */
export function sidekiqKeys(queue: string): Record<string, string> {
  return { queue: `queue:${queue}`, schedule: 'schedule', retry: 'retry', dead: 'dead', processes: 'processes' };
}

export function rqKeys(queue: string): Record<string, string> {
  return { queue: `rq:queue:${queue}`, wip: `rq:wip:${queue}`, scheduled: `rq:scheduled:${queue}`, deferred: `rq:deferred:${queue}`, failed: `rq:failed:${queue}`, finished: `rq:finished:${queue}` };
}

export function celeryKeys(queue: string): Record<string, string> {
  return { queue, unacked: 'unacked', unackedIndex: 'unacked_index' };
}

export const BULLMQ_ROLES = ['wait', 'paused', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'waiting-children', 'meta'] as const;

export function bullmqKeys(prefix: string, queue: string): Record<string, string> {
  const base = `${prefix}:${queue}`;
  return Object.fromEntries(BULLMQ_ROLES.map((role) => [role, `${base}:${role}`]));
}
