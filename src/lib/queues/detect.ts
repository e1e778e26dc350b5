import type { Target } from '../connect/target.js';
import { utf8OrNull } from '../keyname.js';
import { walkKeys } from '../scan/walk.js';
import type { QueueRef } from './model.js';
import type { Seen } from './systems/adapter.js';
import { ADAPTERS, DISCOVERY_ORDER } from './systems/index.js';

/**
 * Finds queues by the shapes their libraries leave in the keyspace (one walk
 * with the foundation's scan engine; see README "How queues are found"). Each
 * system's adapter says which names and types can be its keys; only those
 * are kept, so memory stays small on a big keyspace.
 */
const adapters = DISCOVERY_ORDER.map((s) => ADAPTERS[s]);
const nameCanMatter = (name: string) => adapters.some((a) => a.nameCanMatter(name));
const worthKeeping = (name: string, type: string) => adapters.some((a) => a.worthKeeping(name, type));

export async function detectQueues(t: Target, db: number, signal?: AbortSignal): Promise<QueueRef[]> {
  const seen = new Map<string, Seen>();
  // Names first, types after: only the few keys whose name can matter are
  // probed, so the walk costs about what a plain SCAN does.
  for await (const batch of walkKeys(t, { count: 1000, signal })) {
    const names: { name: string; key: Buffer }[] = [];
    for (const k of batch.keys) {
      const name = utf8OrNull(k.key);
      if (name !== null && nameCanMatter(name)) names.push({ name, key: k.key });
    }
    if (!names.length) continue;
    const p = batch.handle!.client.pipeline();
    for (const n of names) p.type(n.key);
    const types = (await p.exec()) ?? [];
    names.forEach(({ name }, i) => {
      const type = String(types[i]?.[1] ?? 'none');
      if (worthKeeping(name, type)) seen.set(name, { type });
    });
  }
  const claimed = new Set<string>();
  const found: QueueRef[][] = [];
  for (const a of adapters) found.push(await a.discover(t, db, seen, claimed));
  // Home-grown queues are listed first, then the others in discovery order.
  return [...found[found.length - 1]!, ...found.slice(0, -1).flat()];
}
