import type { Target } from '../connect/target.js';
import { utf8OrNull } from '../keyname.js';
import { parseTimestamp } from '../ttl/age.js';
import { jobId, readFields } from './jsonField.js';

/**
 * Reading jobs the way every adapter does: a job as shown by peek and dead
 * list, a key's size whatever its type, an enqueue time from a job's fields.
 * Read-only.
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

export function asJob(from: string, raw: Buffer, info?: Record<string, unknown>): PeekedJob {
  const text = utf8OrNull(raw);
  if (text === null) return { from, id: null, base64: raw.toString('base64'), ...(info ? { info } : {}) };
  try {
    return { from, id: jobId(text), job: JSON.parse(text), ...(info ? { info } : {}) };
  } catch {
    return { from, id: null, text, ...(info ? { info } : {}) };
  }
}

/** The next N a worker would take from a LIST it pops from the tail (oldest first). */
export const tailFirst = async (t: Target, key: string, n: number) => (await t.client.lrangeBuffer(key, -n, -1)).reverse();

/** The size of a key whatever its type; 0 when it does not exist. */
export async function sizeOf(t: Target, key: string): Promise<number> {
  const type = await t.client.type(key);
  if (type === 'list') return t.client.llen(key);
  if (type === 'zset') return t.client.zcard(key);
  if (type === 'set') return t.client.scard(key);
  if (type === 'hash') return t.client.hlen(key);
  return 0;
}

export function enqueuedAt(text: string, fields: string[]): number | null {
  const f = readFields(text, fields);
  if (!f) return null;
  for (const name of fields) if (f[name] !== undefined && f[name] !== null) return parseTimestamp(f[name]);
  return null;
}

/** Seconds since a time in ms (one decimal), for "oldest waiting" figures. */
export function ageSince(now: number, ms: number | null): number | null {
  return ms === null ? null : Math.max(0, Math.round((now - ms) / 100) / 10);
}

/** A SET's members, by SSCAN (a queue registry can be large). */
export async function setMembers(t: Target, key: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, got] = await t.client.sscan(key, cursor, 'COUNT', 1000);
    cursor = next;
    out.push(...got);
  } while (cursor !== '0');
  return out;
}
