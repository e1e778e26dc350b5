import { UsageError } from '../../errors.js';
import type { Target } from '../connect/target.js';
import { utf8OrNull } from '../keyname.js';
import { jobId, readFields, topLevelField } from './jsonField.js';
import type { QueueRef } from './model.js';
import { conventionalCompanion } from './detect.js';

/**
 * Reading jobs without taking them: the next ones a worker would get (peek)
 * and the dead letters (dead list). Read-only commands only: LRANGE, ZRANGE,
 * HGETALL.
 */
export interface PeekedJob {
  /** Where the job sits: the key and, for lists, the index. */
  from: string;
  id: string | null;
  /** The job as JSON when it parses, else its text (or base64 for binary). */
  job?: unknown;
  text?: string;
  base64?: string;
  /** System-specific extras (BullMQ failedReason, RQ status, Sidekiq error_message…). */
  info?: Record<string, unknown>;
}

function asJob(from: string, raw: Buffer, info?: Record<string, unknown>): PeekedJob {
  const text = utf8OrNull(raw);
  if (text === null) return { from, id: null, base64: raw.toString('base64'), ...(info ? { info } : {}) };
  try {
    return { from, id: jobId(text), job: JSON.parse(text), ...(info ? { info } : {}) };
  } catch {
    return { from, id: null, text, ...(info ? { info } : {}) };
  }
}

const tailFirst = async (t: Target, key: string, n: number) => (await t.client.lrangeBuffer(key, -n, -1)).reverse();

export async function peekJobs(t: Target, ref: QueueRef, n: number): Promise<PeekedJob[]> {
  const c = t.client;
  const k = ref.keys;
  const out: PeekedJob[] = [];
  switch (ref.system) {
    case 'homegrown': {
      if (k.priority && (await c.type(k.priority)) === 'zset') {
        for (const raw of await c.zrevrangeBuffer(k.priority, 0, n - 1)) out.push(asJob(k.priority, raw));
      }
      for (const raw of await tailFirst(t, k.main!, n - out.length)) if (out.length < n) out.push(asJob(k.main!, raw));
      return out;
    }
    case 'sidekiq':
      return (await tailFirst(t, k.queue!, n)).map((raw) => asJob(k.queue!, raw));
    case 'celery': {
      for (const q of [k.queue, ...(ref.priorityLists ?? [])]) {
        if (out.length >= n) break;
        for (const raw of await tailFirst(t, q!, n - out.length)) {
          const j = asJob(q!, raw);
          const headers = (j.job as { headers?: { id?: string; task?: string } } | undefined)?.headers;
          out.push({ ...j, id: headers?.id ?? j.id, info: headers?.task ? { task: headers.task } : undefined });
        }
      }
      return out;
    }
    case 'bullmq': {
      const ids = [...await c.zrange(k.prioritized!, 0, n - 1), ...(await c.lrange(k.wait!, -n, -1)).reverse()].slice(0, n);
      return Promise.all(ids.map((id) => bullJob(t, ref, id, k.wait!)));
    }
    case 'rq': {
      const ids = await c.lrange(k.queue!, 0, n - 1);
      return Promise.all(ids.map(async (id) => rqJob(t, id, k.queue!)));
    }
  }
}

async function bullJob(t: Target, ref: QueueRef, id: string, from: string): Promise<PeekedJob> {
  const h = await t.client.hgetall(`${ref.prefix}:${ref.name}:${id}`);
  let data: unknown = h.data;
  try {
    data = JSON.parse(h.data!);
  } catch { /* shown as text */ }
  const info: Record<string, unknown> = { name: h.name, timestamp: h.timestamp ? Number(h.timestamp) : null };
  if (h.failedReason !== undefined) info.failedReason = h.failedReason;
  if (h.attemptsMade !== undefined) info.attemptsMade = Number(h.attemptsMade);
  return { from, id, job: data, info };
}

async function rqJob(t: Target, id: string, from: string): Promise<PeekedJob> {
  const h = await t.client.hmget(`rq:job:${id}`, 'description', 'status', 'enqueued_at', 'ended_at', 'origin');
  // RQ's job `data` is pickled (binary): shown by its description instead.
  return { from, id, info: { description: h[0], status: h[1], enqueued_at: h[2], ended_at: h[3], origin: h[4] } };
}

/** The dead letters: home-grown dead list (oldest first), Sidekiq `dead` for the queue, BullMQ failed, RQ failed registry. */
export async function deadJobs(t: Target, ref: QueueRef, n: number): Promise<{ total: number | null; jobs: PeekedJob[] }> {
  const c = t.client;
  const k = ref.keys;
  switch (ref.system) {
    case 'homegrown':
    {
      const dead = k.dead ?? conventionalCompanion(k.main!, 'dead');
      return { total: await c.llen(dead), jobs: (await tailFirst(t, dead, n)).map((raw) => asJob(dead, raw)) };
    }
    case 'sidekiq': {
      const jobs: PeekedJob[] = [];
      let total = 0;
      let cursor = '0';
      do {
        const [next, flat] = await c.zscanBuffer('dead', cursor, 'COUNT', 1000);
        cursor = String(next);
        for (let i = 0; i < flat.length; i += 2) {
          const text = flat[i]!.toString('utf8');
          if (topLevelField(text, 'queue')?.value !== ref.name) continue;
          total++;
          if (jobs.length < n) {
            const f = readFields(text, ['error_message', 'error_class', 'retry_count', 'failed_at']) ?? {};
            jobs.push(asJob('dead', flat[i]!, { ...f, diedAt: Number(flat[i + 1]!.toString()) }));
          }
        }
      } while (cursor !== '0');
      return { total, jobs };
    }
    case 'bullmq': {
      const ids = await c.zrevrange(k.failed!, 0, n - 1);
      return { total: await c.zcard(k.failed!), jobs: await Promise.all(ids.map((id) => bullJob(t, ref, id, k.failed!))) };
    }
    case 'rq': {
      const ids = await c.zrange(k.failed!, 0, n - 1);
      return { total: await c.zcard(k.failed!), jobs: await Promise.all(ids.map((id) => rqJob(t, id, k.failed!))) };
    }
    case 'celery':
      throw new UsageError('Celery keeps no dead letters in Redis (failed task results live in the result backend)');
  }
}
