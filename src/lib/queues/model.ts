import type { RoleOf } from './roles.js';

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
 * Where a queue lives: one shape per system (QueueRef is their union), each
 * with its key names by typed role, built by its adapter (systems/*.ts) for
 * discovered and declared queues alike. An optional role is a state this
 * queue does not have.
 */
interface RefBase {
  name: string;
  db: number;
  fields: JobFields;
  maxRetries?: number;
  declared: boolean;
}

/** The main list always; a companion role only where the queue has one. */
export type HomegrownKeys = { main: string } & Partial<Record<Exclude<RoleOf<'homegrown'>, 'main'>, string>>;
export interface HomegrownRef extends RefBase {
  system: 'homegrown';
  keys: HomegrownKeys;
  /** The processing key's type (a SET of ids or a LIST of jobs). */
  processingType?: 'set' | 'list';
  /** Per-worker processing lists, `{main}:processing:{worker}`. */
  workerLists?: string[];
}

export type SidekiqKeys = Record<RoleOf<'sidekiq'>, string>;
export interface SidekiqRef extends RefBase { system: 'sidekiq'; keys: SidekiqKeys }

export type BullmqKeys = Record<RoleOf<'bullmq'>, string>;
export interface BullmqRef extends RefBase {
  system: 'bullmq';
  keys: BullmqKeys;
  /** Key prefix (default "bull"): job hashes are `{prefix}:{queue}:{id}`. */
  prefix: string;
}

export type RqKeys = Record<RoleOf<'rq'>, string>;
export interface RqRef extends RefBase { system: 'rq'; keys: RqKeys }

export type CeleryKeys = Record<RoleOf<'celery'>, string>;
export interface CeleryRef extends RefBase {
  system: 'celery';
  keys: CeleryKeys;
  /** Priority sub-lists found beside the queue list. */
  priorityLists?: string[];
}

export type QueueRef = HomegrownRef | SidekiqRef | BullmqRef | RqRef | CeleryRef;
export type RefOf<S extends QueueSystem> = Extract<QueueRef, { system: S }>;

/** A ref's key names as a plain map (roles it does not have are left out). */
export function keyMap(ref: QueueRef): Record<string, string> {
  return Object.fromEntries(Object.entries(ref.keys).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export interface QueueInfo extends QueueCounts {
  name: string;
  system: QueueSystem;
  db: number;
  keys: Record<string, string>;
}
