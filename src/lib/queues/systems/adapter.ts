import { UsageError } from '../../../errors.js';
import type { Target } from '../../connect/target.js';
import type { HeartbeatLayout, DeclaredQueue } from '../config.js';
import type { DrainPlan } from '../drain.js';
import type { PeekedJob } from '../jobs.js';
import type { QueueCounts, QueueRef, QueueSystem, RefOf } from '../model.js';
import type { WorkerInfo, WorkersReport } from '../../workers/model.js';

/**
 * Everything redis-ops knows about one queue system, in one file per system
 * (docs/ARCHITECTURE.md "A new queue system"). The generic code (find,
 * count, peek, drain, enqueue, workers) only ever asks the adapter of a
 * ref's system; nothing else branches on a system's name.
 */
export interface QueueAdapter<R extends QueueRef = QueueRef> {
  readonly system: R['system'];
  /** Roles a declared queue may name under `keys` in the config file. */
  readonly roles: readonly string[];
  /** A declared queue: the same key builder as discovery; names given in the config win. */
  declare(q: DeclaredQueue, base: DeclaredBase): R;
  /** Declared queues whose layout is completed from the keyspace (home-grown companions). */
  completeDeclared?(t: Target, pairs: { ref: R; q: DeclaredQueue }[], signal?: AbortSignal): Promise<void>;

  /** Discovery, step 1: whether a key's name can matter (only those are TYPE-probed). */
  nameCanMatter(name: string): boolean;
  /** Discovery, step 2: whether a key of this name and type is kept for resolve. */
  worthKeeping(name: string, type: string): boolean;
  /**
   * Discovery, step 3: this system's queues among the kept keys. Keys a
   * queue owns go into `claimed`, so the home-grown adapter (last) does not
   * take them for queues of its own.
   */
  discover(t: Target, db: number, seen: Map<string, Seen>, claimed: Set<string>): Promise<R[]>;

  /** Every figure of `queue stats` for these queues of one database (shared keys read once). */
  count(t: Target, refs: R[], now: number): Promise<QueueCounts[]>;
  /**
   * The LIST waiting jobs are pushed to, and the end producers push at (the
   * system's own client): `top` tells arrivals from departures by where the
   * newest job it saw has moved to.
   */
  waitingList(ref: R): { key: string; newest: 'head' | 'tail' };
  /** The next jobs a worker would take. */
  peek(t: Target, ref: R, n: number): Promise<PeekedJob[]>;
  /** The dead letters (total: null when unknown). */
  dead(t: Target, ref: R, n: number): Promise<{ total: number | null; jobs: PeekedJob[] }>;
  /** Plans for retry-drain, dead requeue and dead purge; a UsageError where the system does not allow it. */
  retryDrainPlan(ref: R, opts: RetryDrainOptions): DrainPlan;
  deadRequeuePlan(ref: R, now: number): DrainPlan;
  deadPurgePlan(ref: R): DrainPlan;
  /** Where and how jobs are enqueued; a UsageError where only the system's own client writes correctly. */
  enqueuePlan(ref: R, jobs: string[], opts: EnqueueOptions, now: number): EnqueuePlan;

  /** The workers of this system in one database (and the orphans it can tell at once). */
  workers?(t: Target, db: number, refs: R[], report: WorkersReport, ctx: WorkerContext): Promise<void>;
  /** In-flight jobs no live worker holds; runs after every adapter's workers. */
  orphans?(t: Target, db: number, refs: R[], report: WorkersReport, ctx: WorkerContext): Promise<void>;
  /** Why this dead worker cannot be forgotten safely, or null. */
  forgetRefusal?(w: WorkerInfo): string | null;
  /** Forgets a dead worker's record if it is still dead: 1 when forgotten, 0 when it came back. */
  forget?(t: Target, w: WorkerInfo): Promise<number>;
}

export interface Seen { type: string }

export interface DeclaredBase {
  name: string;
  db: number;
  fields: QueueRef['fields'];
  maxRetries?: number;
  declared: true;
}

export interface RetryDrainOptions { all: boolean; maxRetries?: number; now: number }
export interface EnqueueOptions { priority?: number; className?: string }

export interface EnqueuePlan {
  key: string;
  payloads: string[];
  /** Writes one batch (as the system's own client does). */
  write(t: Target, batch: string[]): Promise<unknown>;
}

export interface WorkerContext {
  now: number;
  staleAfterMs: number;
  heartbeats: HeartbeatLayout[];
  signal?: AbortSignal;
}

/** The adapters, typed per system. */
export type Adapters = { [S in QueueSystem]: QueueAdapter<RefOf<S>> };

/** The refusals of systems whose own tools own a step (the same words for each). */
export const refuse = {
  retryDrain: (system: QueueSystem, how: string) => new UsageError(`${system} schedules its own retries (${how}): retry-drain works on home-grown and Sidekiq queues`),
  deadWrite: (system: QueueSystem) => new UsageError(`${system}'s failed jobs are shown read-only (dead list): retry them with ${system}'s own tools, which also reset its job records`),
  enqueue: (system: QueueSystem) => new UsageError(`enqueue writes home-grown and Sidekiq jobs; ${system} jobs need records only ${system}'s own client writes correctly`),
};
