import { randomBytes } from 'node:crypto';
import { InputError, UsageError } from '../../errors.js';
import type { Target } from '../connect/target.js';
import type { Rails } from '../rails.js';
import { topLevelField, withField } from './jsonField.js';
import type { QueueRef } from './model.js';

/**
 * Parses jobs: one JSON object per non-empty line. Every line is checked
 * before anything is written, so a bad line enqueues nothing.
 */
export function parseJobs(text: string, source: string): string[] {
  const jobs: string[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new InputError(`${source} line ${i + 1}: not valid JSON (${(e as Error).message}); nothing was enqueued`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${source} line ${i + 1}: a job must be a JSON object; nothing was enqueued`);
    jobs.push(t);
  });
  if (!jobs.length) throw new InputError(`${source}: no jobs`);
  return jobs;
}

/**
 * A Sidekiq payload as Sidekiq::Client#push writes it: class, args, jid,
 * queue, retry, created_at and enqueued_at (float seconds, as Sidekiq 6 and 7).
 * Fields the job gives are kept byte for byte.
 */
export function sidekiqPayload(job: string, queue: string, className: string | undefined, now: number): string {
  let p = job;
  if (!topLevelField(p, 'class')) {
    if (!className) throw new InputError('a Sidekiq job needs a "class" (in the job, or --class NAME); nothing was enqueued');
    p = withField(p, 'class', JSON.stringify(className));
  }
  if (!topLevelField(p, 'args')) p = withField(p, 'args', '[]');
  if (!topLevelField(p, 'jid')) p = withField(p, 'jid', JSON.stringify(randomBytes(12).toString('hex')));
  p = withField(p, 'queue', JSON.stringify(queue));
  if (!topLevelField(p, 'retry')) p = withField(p, 'retry', 'true');
  if (!topLevelField(p, 'created_at')) p = withField(p, 'created_at', String(now / 1000));
  return withField(p, 'enqueued_at', String(now / 1000));
}

export interface EnqueueResult {
  dryRun: boolean;
  queue: string;
  system: string;
  key: string;
  enqueued: number;
  stopped: string | null;
}

const BATCH = 500;

export async function enqueueJobs(t: Target, ref: QueueRef, jobs: string[], rails: Rails, opts: { priority?: number; className?: string }): Promise<EnqueueResult> {
  const now = Date.now();
  let key: string;
  let payloads: string[];
  if (ref.system === 'homegrown') {
    key = opts.priority !== undefined ? (ref.keys.priority ?? `${ref.keys.main}_priority`) : ref.keys.main;
    payloads = jobs;
  } else if (ref.system === 'sidekiq') {
    if (opts.priority !== undefined) throw new UsageError('Sidekiq queues have no priorities: --priority is for home-grown queues');
    key = `queue:${ref.name}`;
    payloads = jobs.map((j) => sidekiqPayload(j, ref.name, opts.className, now));
  } else {
    throw new UsageError(`enqueue writes home-grown and Sidekiq jobs; ${ref.system} jobs need records only ${ref.system}'s own client writes correctly`);
  }
  await rails.openLog();
  const result: EnqueueResult = { dryRun: rails.dryRun, queue: ref.name, system: ref.system, key, enqueued: 0, stopped: null };
  for (let i = 0; i < payloads.length;) {
    const n = await rails.admit(Math.min(BATCH, payloads.length - i));
    if (n === 0) {
      result.stopped = rails.stopReason;
      break;
    }
    const batch = payloads.slice(i, i + n);
    if (!rails.dryRun) {
      if (ref.system === 'sidekiq') {
        // As Sidekiq's client: register the queue and push, in one transaction.
        await t.client.multi().sadd('queues', ref.name).lpush(key, ...batch).exec();
      } else if (opts.priority !== undefined) {
        await t.client.zadd(key, ...batch.flatMap((b) => [String(opts.priority), b]));
      } else await t.client.lpush(key, ...batch);
    }
    await rails.record(batch.map((b) => ({ key: Buffer.from(key), action: 'enqueue', detail: { item: b } })));
    result.enqueued += batch.length;
    i += n;
  }
  return result;
}
