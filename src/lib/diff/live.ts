import type { Target } from '../connect/target.js';
import { DigestSink } from '../backup/diff.js';
import type { KeyRecord } from '../backup/format.js';
import { KeyBackup, writeBackup } from '../backup/writer.js';
import { KeySet } from '../backup/keySet.js';
import { globToRegExp, keyMatches } from '../glob.js';

/**
 * Two live deployments compared key by key (the cutover gate: `copy … &&
 * diff … && switch`). Each side is read the way `backup` reads it (type,
 * value and expiry together, big keys in pages), and reduced to a digest per
 * key: lists and strings in order, sets, hashes and zsets element by element
 * whatever their order, streams with their groups. Expiries are compared
 * within a tolerance (the two sides are read at different moments).
 */
export type DifferenceKind = 'missing' | 'extra' | 'type' | 'value' | 'ttl';

export interface Difference {
  kind: DifferenceKind;
  key?: string;
  key64?: string;
  /** type: each side's type; ttl: each side's expiry (unix ms, null: none). */
  from?: string | number | null;
  to?: string | number | null;
}

export interface LiveDiff {
  from: string;
  to: string;
  keysFrom: number;
  keysTo: number;
  same: number;
  counts: Record<DifferenceKind, number>;
  differences: Difference[];
  /** false when a Ctrl-C or SIGTERM stopped a walk: the comparison covers what was read. */
  complete: boolean;
  /** With --sample: how many random keys of --from were compared (extra keys of --to are not looked for). */
  sampled: number | null;
}

export interface LiveDiffOptions {
  match: string[];
  types: string[];
  count: number;
  ttlToleranceMs: number;
  /** Compare this many random keys of --from instead of walking both sides. */
  sample?: number;
  signal?: AbortSignal;
}

/** A digest sink that also keeps each key's expiry. */
class SideSink extends DigestSink {
  readonly expiry = new Map<string, number | null>();

  override add(r: KeyRecord): void {
    if (!r.part) this.expiry.set(idOf(r), r.expireAtMs);
    super.add(r);
  }
}

/** A key's id on one side, whatever the database it was read from (db 0 may be compared with db 1). */
function idOf(r: { key?: string; key64?: string }): string {
  return r.key !== undefined ? `k${r.key}` : `b${r.key64}`;
}

const withoutDb = (id: string) => id.slice(id.indexOf(':') + 1);
const refOf = (id: string) => (id[0] === 'k' ? { key: id.slice(1) } : { key64: id.slice(1) });

async function readSide(target: Target, opts: LiveDiffOptions): Promise<{ digests: Map<string, { type: string; digest: string }>; expiry: Map<string, number | null>; complete: boolean }> {
  const sink = new SideSink();
  const summary = await writeBackup(target, [target.db], { match: opts.match, types: opts.types, count: opts.count, signal: opts.signal }, sink);
  return { digests: new Map([...sink.digests].map(([id, d]) => [withoutDb(id), d])), expiry: sink.expiry, complete: summary.complete && !opts.signal?.aborted };
}

/** Up to n distinct random keys of a deployment (RANDOMKEY on each master, in proportion to its keys), matching the patterns. */
async function randomKeys(target: Target, n: number, opts: LiveDiffOptions): Promise<Buffer[]> {
  const masters = target.masters();
  const sizes = await Promise.all(masters.map((m) => m.client.dbsize()));
  const total = sizes.reduce((a, b) => a + b, 0);
  const patterns = opts.match.map(globToRegExp);
  const seen = new KeySet();
  const out: Buffer[] = [];
  await Promise.all(masters.map(async (m, i) => {
    const want = total ? Math.ceil((n * sizes[i]!) / total) : 0;
    let got = 0;
    // A small keyspace gives the same keys again: stop after a few tries each.
    for (let tries = 0; got < want && tries < want * 4 + 50 && !opts.signal?.aborted; tries++) {
      const k = (await m.client.callBuffer('RANDOMKEY')) as Buffer | null;
      if (!k) break;
      if (!keyMatches(k, patterns) || seen.add(0, k) !== 0) continue;
      out.push(k);
      got++;
    }
  }));
  return out.slice(0, n);
}

/** Reads these keys on one side as backup reads them (each on the master that holds it there). */
async function readKeys(target: Target, keys: Buffer[]): Promise<Awaited<ReturnType<typeof readSide>>> {
  const sink = new SideSink();
  const reader = new KeyBackup(target, sink);
  const byNode = new Map<string, { node: ReturnType<Target['nodeFor']>; keys: Buffer[] }>();
  for (const k of keys) {
    const node = target.nodeFor(k);
    const g = byNode.get(node.address) ?? { node, keys: [] };
    g.keys.push(k);
    byNode.set(node.address, g);
  }
  for (const { node, keys: ks } of byNode.values()) await reader.add(node, target.db, ks);
  await reader.drain();
  return { digests: new Map([...sink.digests].map(([id, d]) => [withoutDb(id), d])), expiry: sink.expiry, complete: true };
}

export async function diffLive(from: Target, to: Target, opts: LiveDiffOptions): Promise<LiveDiff> {
  let a: Awaited<ReturnType<typeof readSide>>;
  let b: Awaited<ReturnType<typeof readSide>>;
  if (opts.sample !== undefined) {
    const keys = await randomKeys(from, opts.sample, opts);
    [a, b] = await Promise.all([readKeys(from, keys), readKeys(to, keys)]);
  } else [a, b] = await Promise.all([readSide(from, opts), readSide(to, opts)]);
  const result: LiveDiff = {
    from: `${from.address}/${from.db}`, to: `${to.address}/${to.db}`, keysFrom: a.digests.size, keysTo: b.digests.size, same: 0,
    counts: { missing: 0, extra: 0, type: 0, value: 0, ttl: 0 }, differences: [], complete: a.complete && b.complete,
    sampled: opts.sample !== undefined ? a.digests.size : null,
  };
  const add = (d: Difference) => {
    result.counts[d.kind]++;
    result.differences.push(d);
  };
  for (const [id, da] of a.digests) {
    const db = b.digests.get(id);
    if (!db) { add({ kind: 'missing', ...refOf(id) }); continue; }
    if (db.type !== da.type) { add({ kind: 'type', ...refOf(id), from: da.type, to: db.type }); continue; }
    if (db.digest !== da.digest) { add({ kind: 'value', ...refOf(id) }); continue; }
    const ea = a.expiry.get(id) ?? null;
    const eb = b.expiry.get(id) ?? null;
    if ((ea === null) !== (eb === null) || (ea !== null && eb !== null && Math.abs(ea - eb) > opts.ttlToleranceMs)) {
      add({ kind: 'ttl', ...refOf(id), from: ea, to: eb });
      continue;
    }
    result.same++;
  }
  for (const id of b.digests.keys()) if (!a.digests.has(id)) add({ kind: 'extra', ...refOf(id) });
  const order: DifferenceKind[] = ['missing', 'extra', 'type', 'value', 'ttl'];
  result.differences.sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind) || (x.key ?? x.key64 ?? '').localeCompare(y.key ?? y.key64 ?? ''));
  return result;
}
