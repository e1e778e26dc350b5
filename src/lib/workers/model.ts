import type { QueueSystem } from '../queues/model.js';

/**
 * Every worker the data shows, whatever wrote it, and the in-flight jobs no
 * live worker holds (README "workers"). A worker is alive by its system's own
 * rule where it has one (Sidekiq and RQ: the heartbeat record still exists,
 * as both let it expire), else by the age of its last heartbeat.
 */
export interface WorkerInfo {
  id: string;
  system: Exclude<QueueSystem, 'celery'>;
  db: number;
  lastSeen: string | null;
  ageSec: number | null;
  alive: boolean;
  currentJob: string | null;
  /** The record that says so (heartbeat hash, process identity, client name). */
  key: string | null;
  queues?: string[];
  /** Internal: the heartbeat value seen, for compare-and-delete. */
  beat?: { field: string; value: string | null };
}

export interface OrphanInfo {
  system: string;
  db: number;
  queue: string;
  /** The processing key (or registry) holding the job. */
  key: string;
  job: string | null;
  worker: string | null;
  reason: string;
  /** Whether `workers reap --requeue-orphans` can put it back. */
  requeueable: boolean;
  /** Internal: the job as stored (LIST entries). */
  stored?: Buffer;
  /** Internal: where `--requeue-orphans` puts it back (the queue's main list). */
  requeueTo?: string;
}

export interface WorkersReport {
  workers: WorkerInfo[];
  orphans: OrphanInfo[];
  notes: string[];
}
