import type { Target } from '../connect/target.js';
import type { Rails, StopReason } from '../rails.js';
import type { KeyInfo } from '../scan/walk.js';
import { scanKeys, type KeyScanOptions } from './scan.js';

export interface DeleteResult {
  dryRun: boolean;
  pattern: string;
  matched: number;
  deleted: number;
  /** Matched, then gone before UNLINK reached it (expired or deleted by someone else). */
  vanished: number;
  stoppedBy: StopReason | null;
  durationMs: number;
}

export interface DeleteHooks {
  /** Called with each page of keys changed (or, in a dry run, that would be). */
  onKeys?: (node: string, keys: KeyInfo[]) => Promise<void>;
  /** Keys matched so far, and keys the walk has looked at. */
  onProgress?: (matched: number, scanned: number) => void;
}

/**
 * Unlinks the keys a walk finds, through the rails: each page is cut to what
 * the budgets admit; UNLINK frees memory off the main thread. In a cluster,
 * keys are grouped by slot (multi-key commands must not cross slots) and sent
 * through the cluster client, which follows a slot that moves mid-run.
 */
export async function deleteMatchingKeys(
  target: Target, scan: KeyScanOptions & { match: Buffer; pattern: string }, rails: Rails, hooks: DeleteHooks = {},
): Promise<DeleteResult> {
  const started = Date.now();
  const result: DeleteResult = {
    dryRun: rails.dryRun, pattern: scan.pattern, matched: 0, deleted: 0, vanished: 0, stoppedBy: null, durationMs: 0,
  };
  await rails.openLog();
  let scanned = 0;
  outer: for await (const page of scanKeys(target, scan)) {
    scanned += page.seen;
    let keys = page.keys;
    while (keys.length) {
      const step = await rails.apply(keys, {
        // UNLINK answers how many keys it removed, not which: a key counted as
        // vanished is one another client deleted between the walk and now.
        write: async (chunk) => {
          const removed = await unlinkKeys(target, chunk.map((k) => k.key));
          result.deleted += removed;
          result.vanished += chunk.length - removed;
          return chunk.map(() => 'done');
        },
        change: (k) => ({ key: k.key, action: 'unlink', node: page.node, db: page.db }),
      });
      if (!step) break outer;
      const chunk = step.items;
      keys = keys.slice(chunk.length);
      result.matched += chunk.length;
      await hooks.onKeys?.(page.node, chunk);
      hooks.onProgress?.(result.matched, scanned);
    }
  }
  // A budget that ran out while keys were still matching is a partial run;
  // one that ran out exactly at the end of the walk is not.
  result.stoppedBy = rails.stopReason;
  result.durationMs = Date.now() - started;
  return result;
}

export async function unlinkKeys(target: Target, keys: Buffer[]): Promise<number> {
  if (keys.length === 0) return 0;
  // One UNLINK per slot (a cluster refuses keys of several slots); elsewhere, one.
  const bySlot = new Map<number, Buffer[]>();
  for (const k of keys) {
    const slot = target.slotOf(k);
    const list = bySlot.get(slot);
    if (list) list.push(k);
    else bySlot.set(slot, [k]);
  }
  const counts = await Promise.all([...bySlot.values()].map((group) => target.client.unlink(...group)));
  return counts.reduce((a, b) => a + Number(b), 0);
}
