import { randomBytes } from 'node:crypto';
import { InputError, UsageError } from '../../errors.js';
import type { Target } from '../connect/target.js';
import type { Rails } from '../rails.js';
import { topLevelField, withField } from './jsonField.js';
import type { QueueRef } from './model.js';

/**
 * Parses jobs: one JSON object per non-empty line. Every line is checked
 * before anything is written, so a bad line enqueues nothing. Jobs are
 * stored byte for byte, so a line that is not valid UTF-8 is refused rather
 * than altered (a string would turn each bad byte into U+FFFD). Messages
 * never quote the input: a mistaken --file may be a secret.
 */
export function parseJobs(input: string | Buffer, source: string): string[] {
  const text = typeof input === 'string' ? checkArgument(input, source) : utf8Lines(input, source);
  const jobs: string[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      // V8's message quotes the input: say where, never what.
      const at = /at position (\d+)/.exec((e as Error).message)?.[1];
      throw new InputError(`${source} line ${i + 1}: not valid JSON (${at !== undefined ? `at column ${Number(at) + 1}; ` : ''}the line is not shown: it may hold secrets); nothing was enqueued`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${source} line ${i + 1}: a job must be a JSON object; nothing was enqueued`);
    jobs.push(t);
  });
  if (!jobs.length) throw new InputError(`${source}: no jobs`);
  return jobs;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8Lines(bytes: Buffer, source: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let line = 1;
    for (let at = 0; at < bytes.length; at = bytes.indexOf(0x0a, at) + 1 || bytes.length) {
      const end = bytes.indexOf(0x0a, at);
      const slice = bytes.subarray(at, end < 0 ? bytes.length : end);
      try {
        strictUtf8.decode(slice);
      } catch {
        break;
      }
      line++;
    }
    throw new InputError(`${source} line ${line}: not valid UTF-8; jobs are stored byte for byte and JSON is UTF-8 text, so nothing was enqueued`);
  }
}

/** The shell hands Node invalid bytes as U+FFFD: they cannot be told apart from a real one, so neither is taken. */
function checkArgument(text: string, source: string): string {
  if (text.includes('\uFFFD')) {
    throw new InputError(`${source} is not valid UTF-8 (or holds U+FFFD, the mark of a byte that was not): give the job with --file or on stdin, where bytes arrive exactly; nothing was enqueued`);
  }
  return text;
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
    key = opts.priority !== undefined ? (ref.keys.priority ?? `${ref.keys.main}_priority`) : ref.keys.main!;
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
