import { InputError } from '../../errors.js';
import type { Target } from '../connect/target.js';
import type { Rails } from '../rails.js';
import type { QueueRef } from './model.js';
import type { EnqueueOptions } from './systems/adapter.js';
import { adapterOf } from './systems/index.js';

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

export interface EnqueueResult {
  dryRun: boolean;
  queue: string;
  system: string;
  key: string;
  enqueued: number;
  stopped: string | null;
}

const BATCH = 500;

export async function enqueueJobs(t: Target, ref: QueueRef, jobs: string[], rails: Rails, opts: EnqueueOptions): Promise<EnqueueResult> {
  const plan = adapterOf(ref).enqueuePlan(ref, jobs, opts, Date.now());
  await rails.openLog();
  const result: EnqueueResult = { dryRun: rails.dryRun, queue: ref.name, system: ref.system, key: plan.key, enqueued: 0, stopped: null };
  for (let left = plan.payloads; left.length;) {
    const step = await rails.apply(left.slice(0, BATCH), {
      write: async (batch) => {
        await plan.write(t, batch);
        return batch.map(() => 'done');
      },
      change: (item) => ({ key: Buffer.from(plan.key), action: 'enqueue', detail: { item } }),
    });
    if (!step) {
      result.stopped = rails.stopReason;
      break;
    }
    result.enqueued += step.items.length;
    left = left.slice(step.items.length);
  }
  return result;
}
