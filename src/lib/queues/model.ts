/**
 * One vocabulary for every queue system (README: "queue stats --json"):
 * waiting, active, delayed, retry, dead and completed mean the same thing
 * whichever library wrote the queue; null means the system keeps no such state.
 */
export type QueueSystem = 'homegrown' | 'sidekiq' | 'bullmq' | 'rq' | 'celery';
export const QUEUE_SYSTEMS: QueueSystem[] = ['homegrown', 'sidekiq', 'bullmq', 'rq', 'celery'];

export interface QueueCounts {
  waiting: number;
  active: number | null;
  delayed: number | null;
  retry: number | null;
  dead: number | null;
  completed: number | null;
  oldestWaitingAgeSec: number | null;
}

/** Field names inside home-grown JSON jobs. */
export interface JobFields {
  /** Candidates for the enqueue time, first present wins. */
  enqueuedAt: string[];
  retryCount: string;
  nextRetryAt: string;
  /** Candidates for the job's id (matched against workers' current job). */
  id: string[];
}

export const DEFAULT_FIELDS: JobFields = {
  enqueuedAt: ['timestamp', 'enqueued_at', 'created_at', 'queued_at'],
  retryCount: 'retry_count',
  nextRetryAt: 'next_retry_at',
  id: ['request_id', 'id', 'job_id', 'jid', 'task_id'],
};

/**
 * Where a queue lives. `keys` names every key the figures come from, by
 * role; a role absent from `keys` is a state this queue does not have.
 */
export interface QueueRef {
  name: string;
  system: QueueSystem;
  db: number;
  keys: Record<string, string>;
  /** Home-grown: the processing key's type (a SET of ids or a LIST of jobs). */
  processingType?: 'set' | 'list';
  /** Home-grown: per-worker processing lists, `{main}:processing:{worker}`. */
  workerLists?: string[];
  /** BullMQ: key prefix (default "bull"). */
  prefix?: string;
  /** Celery: priority sub-lists found beside the queue list. */
  priorityLists?: string[];
  fields: JobFields;
  maxRetries?: number;
  declared: boolean;
}

export interface QueueInfo extends QueueCounts {
  name: string;
  system: QueueSystem;
  db: number;
  keys: Record<string, string>;
}
