import { UsageError } from '../../errors.js';
import { forEachDb } from '../connect/dbs.js';
import type { Target } from '../connect/target.js';
import type { DeclaredQueue } from './config.js';
import { countQueues } from './count.js';
import { detectQueues } from './detect.js';
import { QUEUE_SYSTEMS, type QueueInfo, type QueueRef } from './model.js';
import { bySystem, declaredRef } from './systems/index.js';

/** A queue answers to its name and to SYSTEM:NAME (`sidekiq:default`). */
function names(q: { name: string; system: string }): string[] {
  return [q.name, `${q.system}:${q.name}`];
}

export interface FindOptions {
  dbs: number[];
  declared: DeclaredQueue[];
  /** Walk the keyspace even though the config declares queues. */
  discover: boolean;
  /** Only these queue names (empty: all). */
  names: string[];
  signal?: AbortSignal;
}

/**
 * The queues of each database: the declared ones (no walk), or found by a
 * walk when none are declared or --discover asks. A queue both declared and
 * found is the declared one.
 */
export async function findQueues<T>(target: Target, opts: FindOptions, use: (t: Target, refs: QueueRef[], db: number) => Promise<T>): Promise<T[]> {
  return forEachDb(target, opts.dbs, async (t, db) => {
    const here = opts.declared.filter((q) => (q.db ?? target.db) === db);
    const declared = here.map((q) => declaredRef(q, db));
    for (const { adapter, refs: group } of bySystem(declared)) {
      await adapter.completeDeclared?.(t, group.map((ref) => ({ ref, q: here[declared.indexOf(ref)]! })), opts.signal);
    }
    let refs = declared;
    if (!declared.length || opts.discover) {
      const found = await detectQueues(t, db, opts.signal);
      refs = [...declared, ...found.filter((f) => !declared.some((d) => d.system === f.system && d.name === f.name))];
    }
    if (opts.names.length) refs = refs.filter((r) => opts.names.some((n) => names(r).includes(n)));
    return use(t, refs, db);
  });
}

export async function queueStats(target: Target, opts: FindOptions): Promise<QueueInfo[]> {
  const perDb = await findQueues(target, opts, (t, refs) => countQueues(t, refs));
  const all = perDb.flat();
  const missing = opts.names.filter((n) => !all.some((q) => names(q).includes(n)));
  if (missing.length) throw new UsageError(`no such queue: ${missing.join(', ')} (queue list shows the queues found)`);
  return all;
}

/** Exactly one queue by name (SYSTEM:NAME picks between systems that share a name). */
export async function oneQueue(target: Target, spec: string, opts: Omit<FindOptions, 'names'>): Promise<{ t: Target; ref: QueueRef; close: () => Promise<void> }> {
  const m = new RegExp(`^(${QUEUE_SYSTEMS.join('|')}):(.+)$`).exec(spec);
  const name = m?.[2] ?? spec;
  const hits: { ref: QueueRef; db: number }[] = [];
  await findQueues(target, { ...opts, names: [name] }, async (_t, refs, db) => {
    for (const ref of refs) if (!m || ref.system === m[1]) hits.push({ ref, db });
  });
  if (!hits.length) throw new UsageError(`no such queue: ${spec} (queue list shows the queues found; the config file can declare one)`);
  if (hits.length > 1) throw new UsageError(`${spec} names ${hits.length} queues (${hits.map((h) => `${h.ref.system}:${h.ref.name} in db ${h.db}`).join(', ')}): say which, e.g. ${hits[0]!.ref.system}:${name}`);
  const { ref, db } = hits[0]!;
  const t = db === target.db ? target : await target.forDb(db);
  return { t, ref, close: async () => { if (t !== target) await t.close(); } };
}
