import type { Target } from '../connect/target.js';
import { loadScript, runScript } from '../scripts/loader.js';

/**
 * Moving jobs between keys without loss or duplicates: a job is pushed only if its removal from the source succeeded, in one script.
 * Within one cluster slot (always, off a cluster): one short script per batch
 * removes each job from the source and writes it to the target only if the
 * removal happened. Across slots no script may touch both keys, so each job
 * is written to the target first and then removed from the source, and the
 * write is undone if another client took the job in between: a crash between
 * the two steps leaves the job in both places (at-least-once), never in neither.
 */
export interface MoveSpec {
  source: string;
  sourceKind: 'list' | 'zset';
  target: string | null;
  targetKind: 'lpush' | 'rpush' | 'zadd' | 'none';
  score?: number;
  /** SADD this member to `registry` with each move (Sidekiq's `queues`). */
  registry?: { key: string; member: string };
}

export interface MoveItem {
  stored: Buffer;
  next: Buffer;
}

/** Moves each item; true where this call moved it (false: it was no longer in the source). */
export async function moveItems(t: Target, spec: MoveSpec, items: MoveItem[]): Promise<boolean[]> {
  if (!items.length) return [];
  const keys = [spec.source, spec.target ?? spec.source, spec.registry?.key ?? spec.source];
  if (!t.sameSlot(...keys)) return moveAcrossSlots(t, spec, items);
  const script = loadScript('queue-move-3', t.serverVersion);
  const args: (string | Buffer)[] = [spec.sourceKind, spec.targetKind, String(spec.score ?? 0), spec.registry?.member ?? ''];
  for (const i of items) args.push(i.stored, i.next);
  const res = (await runScript(t.client, script, keys, args)) as number[];
  return res.map((n) => Number(n) === 1);
}

async function moveAcrossSlots(t: Target, spec: MoveSpec, items: MoveItem[]): Promise<boolean[]> {
  const c = t.client;
  const out: boolean[] = [];
  for (const item of items) {
    if (spec.target && spec.targetKind !== 'none') {
      if (spec.targetKind === 'lpush') await c.lpush(spec.target, item.next);
      else if (spec.targetKind === 'rpush') await c.rpush(spec.target, item.next);
      else await c.zadd(spec.target, spec.score ?? 0, item.next);
    }
    const removed = spec.sourceKind === 'list' ? await c.lrem(spec.source, -1, item.stored) : await c.zrem(spec.source, item.stored);
    if (removed !== 1 && spec.target && spec.targetKind !== 'none') {
      // Someone else moved it first: take back our copy.
      if (spec.targetKind === 'zadd') await c.zrem(spec.target, item.next);
      else await c.lrem(spec.target, spec.targetKind === 'lpush' ? 1 : -1, item.next);
    }
    if (removed === 1 && spec.registry) await c.sadd(spec.registry.key, spec.registry.member);
    out.push(removed === 1);
  }
  return out;
}
