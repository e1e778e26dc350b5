import type { Redis } from 'ioredis';
import { PermissionError, UsageError, withDetail } from '../../errors.js';
import { formatCount } from '../numbers.js';
import type { NodeHandle, Target } from '../connect/target.js';
import { versionAtLeast } from '../connect/target.js';
import { isKeyType, KEY_TYPES, LENGTH_COMMAND, TYPE_BY_CODE } from '../keyTypes.js';
import { loadScript, runScript } from '../scripts/loader.js';

/** What to read for each key besides its name. */
export interface ProbeFields {
  type?: boolean;
  ttl?: boolean;
  memory?: boolean;
  idle?: boolean;
  /** STRLEN/LLEN/…: these refresh the key's idle time on servers without CLIENT NO-TOUCH. */
  length?: boolean;
}

export interface WalkOptions {
  match?: string | Buffer;
  /** SCAN TYPE filter (string, list, set, zset, hash, stream). */
  type?: string;
  /** SCAN COUNT: keys the server looks at per page. */
  count: number;
  probe?: ProbeFields;
  signal?: AbortSignal;
  /** Called once per node with why the probe script could not be used. */
  onFallback?: (node: string, reason: string) => void;
  /** Called once per node when MEMORY USAGE is not allowed: the walk goes on without bytes. */
  onNoBytes?: (node: string) => void;
}

export interface KeyInfo {
  key: Buffer;
  type?: string;
  /** null: no expiry. */
  ttlMs?: number | null;
  bytes?: number | null;
  idleSec?: number | null;
  length?: number | null;
}

export interface WalkBatch {
  node: string;
  /** The master the page came from, for reading or writing its keys there. */
  handle: NodeHandle;
  db: number;
  keys: KeyInfo[];
  /** Keys SCAN returned that were gone by the time they were probed. */
  vanished: number;
}

export { KEY_TYPES } from '../keyTypes.js';

export function validateKeyType(type: string | undefined, flag = '--type'): string | undefined {
  if (type === undefined) return undefined;
  if (!(KEY_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`${flag}: "${type}" is not a key type (${KEY_TYPES.join(', ')})`);
  }
  return type;
}

/**
 * Walks the keyspace of every master (in parallel; SCAN per node), yielding
 * pages. With probe fields, each page is one short script on the server (SCAN
 * plus per-key reads), so the client sends one command per page; where EVAL
 * is refused (ACL) it falls back to SCAN plus a pipeline.
 */
export async function* walkKeys(target: Target, opts: WalkOptions): AsyncGenerator<WalkBatch> {
  const nodes = target.masters();
  const walkers = nodes.map((n) => walkNode(target, n, opts));
  let walked = 0;
  try {
    for await (const batch of merge(walkers)) {
      walked += batch.keys.length + batch.vanished;
      yield batch;
    }
  } catch (e) {
    // Each node's failure already names that node; say how far the walk got.
    throw withDetail(e instanceof Error ? e : new Error(String(e)), `the walk stopped after ${formatCount(walked)} keys`);
  }
}

export function probeMask(p: ProbeFields | undefined): number {
  if (!p) return 0;
  return (p.type ? 1 : 0) | (p.ttl ? 2 : 0) | (p.memory ? 4 : 0) | (p.idle ? 8 : 0) | (p.length ? 16 : 0);
}

/** Keys per probe script call: ~0.6 ms of server time at ~6 µs a key. */
export const PROBE_BATCH = 100;
/**
 * Probe calls outstanding at once. Measured on 1M keys (README, Performance):
 * one leaves the server idle between round trips; two keep it busy while
 * another client's command waits behind at most two ~0.6 ms scripts; three
 * were 5% faster and doubled other clients' p99 latency.
 */
const PROBES_IN_FLIGHT = 2;

async function* walkNode(target: Target, node: NodeHandle, opts: WalkOptions): AsyncGenerator<WalkBatch> {
  const mask = probeMask(opts.probe);
  const scanType = opts.type && versionAtLeast(target.serverVersion, '6.0.0') ? opts.type : undefined;
  // Before 6.0 SCAN has no TYPE: filter here, which needs the type.
  const clientFilterType = opts.type && !scanType ? opts.type : undefined;
  const fieldsMask = mask | (clientFilterType ? 1 : 0);
  const probe = fieldsMask ? new Prober(target, node, fieldsMask, opts.onFallback, opts.onNoBytes) : null;
  const count = opts.count;
  const scan = async (cursor: Buffer | string): Promise<[Buffer, Buffer[]]> => {
    const args: (string | Buffer | number)[] = [cursor, 'COUNT', count];
    if (opts.match) args.push('MATCH', opts.match);
    if (scanType) args.push('TYPE', scanType);
    try {
      return (await node.client.scanBuffer(...(args as [string]))) as unknown as [Buffer, Buffer[]];
    } catch (e) {
      throw target.failAt(node.address, e);
    }
  };

  // A stream: the next SCAN page is always requested ahead, its keys are cut
  // into probe batches, and a fixed number of batches are in flight; results
  // come back in order. The server is never idle waiting for us.
  // Reads sent ahead are awaited in turn; if the walk is left first (its
  // caller failed), their failures must not surface later as unhandled
  // rejections: the process's last net would exit before the caller has
  // closed what it holds (an undo backup).
  const ahead = <P>(p: Promise<P>): Promise<P> => {
    p.catch(() => undefined);
    return p;
  };
  let pendingScan: Promise<[Buffer, Buffer[]]> | null = ahead(scan('0'));
  const backlog: Buffer[][] = [];
  const inFlight: Promise<{ keys: KeyInfo[]; vanished: number }>[] = [];
  const depth = probe ? PROBES_IN_FLIGHT : 1;
  for (;;) {
    if (opts.signal?.aborted) return;
    while (inFlight.length < depth) {
      if (backlog.length) {
        const batch = backlog.shift()!;
        inFlight.push(ahead(probe ? probe.read(batch) : Promise.resolve({ keys: batch.map((key) => ({ key })), vanished: 0 })));
      } else if (pendingScan) {
        const [cursor, names]: [Buffer, Buffer[]] = await pendingScan;
        pendingScan = String(cursor) !== '0' ? ahead(scan(cursor)) : null;
        if (!probe) backlog.push(names);
        else for (let i = 0; i < names.length; i += PROBE_BATCH) backlog.push(names.slice(i, i + PROBE_BATCH));
      } else break;
    }
    if (inFlight.length === 0) return;
    const read = await inFlight.shift()!;
    const vanished = read.vanished;
    let keys = read.keys;
    if (clientFilterType) keys = keys.filter((k) => k.type === clientFilterType);
    yield { node: node.address, handle: node, db: target.db, keys, vanished };
  }
}

/**
 * Reads the probe fields of a batch of keys with one short script, or with
 * pipelined commands where EVAL is refused (ACL).
 */
class Prober {
  private useScript = true;
  private warned = false;
  private readonly script;

  constructor(
    private readonly target: Target, private readonly node: NodeHandle, private mask: number,
    private readonly onFallback?: WalkOptions['onFallback'],
    private readonly onNoBytes?: WalkOptions['onNoBytes'],
  ) {
    this.script = loadScript('probe-0', target.serverVersion);
  }

  async read(names: Buffer[]): Promise<{ keys: KeyInfo[]; vanished: number }> {
    if (names.length === 0) return { keys: [], vanished: 0 };
    const mask = this.mask;
    if (!this.useScript) return probeWithPipeline(this.node.client, names.map((key) => ({ key })), mask);
    try {
      const reply = await runScript(this.node.client, this.script, [], [mask, ...names]);
      return decodeProbeReply(names, reply as (Buffer | number)[], mask);
    } catch (e) {
      // An ACL user without MEMORY: the script is refused as a whole. Walk on
      // without bytes (figures stay right; sizes are unknown), and say so once
      // (two batches are in flight: the second fails the same way).
      if (mask & 4 && /can't run this command|NOPERM/i.test(String((e as Error).message))) {
        if (this.mask & 4) this.onNoBytes?.(this.node.address);
        this.mask &= ~4;
        return this.read(names);
      }
      const err = this.target.failAt(this.node.address, e);
      if (err instanceof PermissionError) {
        this.useScript = false;
        if (!this.warned) this.onFallback?.(this.node.address, 'EVAL is not allowed for this user; reading keys with pipelined commands (slower)');
        this.warned = true;
        return this.read(names);
      }
      if (/idle time not tracked|LFU/i.test(String((e as Error).message))) {
        throw new UsageError(`${this.node.address} uses an LFU maxmemory-policy, which does not track idle time: idle-based selection is not possible there`);
      }
      throw err;
    }
  }
}

function decodeProbeReply(names: Buffer[], reply: (Buffer | number)[], mask: number): { keys: KeyInfo[]; vanished: number } {
  const keys: KeyInfo[] = [];
  let vanished = 0;
  for (let n = 0, j = 0; n < names.length; n++) {
    const info: KeyInfo = { key: names[n]! };
    let gone = false;
    if (mask & 1) {
      const t = reply[j++];
      info.type = typeof t === 'number' ? TYPE_BY_CODE[t] : String(t);
      gone = t === 0;
    }
    if (mask & 2) {
      const pttl = Number(reply[j++]);
      if (pttl === -2) gone = true;
      info.ttlMs = pttl === -1 ? null : pttl;
    }
    if (mask & 4) info.bytes = nonNegative(reply[j++]);
    if (mask & 8) info.idleSec = nonNegative(reply[j++]);
    if (mask & 16) info.length = nonNegative(reply[j++]);
    if (gone) vanished++;
    else keys.push(info);
  }
  return { keys, vanished };
}

/** The same reads as the probe script, as pipelined commands (two round trips when lengths are wanted). */
async function probeWithPipeline(client: Redis, keys: KeyInfo[], mask: number): Promise<{ keys: KeyInfo[]; vanished: number }> {
  if (keys.length === 0) return { keys, vanished: 0 };
  const p = client.pipeline();
  for (const { key } of keys) {
    p.type(key);
    p.pttl(key);
    if (mask & 4) p.call('MEMORY', 'USAGE', key);
    if (mask & 8) p.call('OBJECT', 'IDLETIME', key);
  }
  const replies = (await p.exec()) ?? [];
  const width = 2 + (mask & 4 ? 1 : 0) + (mask & 8 ? 1 : 0);
  const out: KeyInfo[] = [];
  const types: string[] = [];
  let vanished = 0;
  keys.forEach((k, idx) => {
    const r = replies.slice(idx * width, idx * width + width);
    const firstErr = r.find(([err]) => err)?.[0];
    if (firstErr) throw firstErr;
    const type = String(r[0]![1]);
    const pttl = Number(r[1]![1]);
    if (type === 'none' || pttl === -2) {
      vanished++;
      return;
    }
    let j = 2;
    const info: KeyInfo = { key: k.key };
    if (mask & 1) info.type = type;
    if (mask & 2) info.ttlMs = pttl === -1 ? null : pttl;
    if (mask & 4) info.bytes = nonNegative(r[j++]![1]);
    if (mask & 8) info.idleSec = nonNegative(r[j++]![1]);
    out.push(info);
    types.push(type);
  });
  if (mask & 16 && out.length) {
    const lp = client.pipeline();
    out.forEach((info, i) => {
      const type = types[i]!;
      const cmd = isKeyType(type) ? LENGTH_COMMAND[type] : undefined;
      if (cmd) lp.call(cmd, info.key);
      else lp.echo('-1');
    });
    const lens = (await lp.exec()) ?? [];
    out.forEach((info, i) => { info.length = nonNegative(lens[i]?.[1]); });
  }
  return { keys: out, vanished };
}

function nonNegative(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Interleaves several async generators, yielding whatever is ready first. */
async function* merge<T>(gens: AsyncGenerator<T>[]): AsyncGenerator<T> {
  if (gens.length === 1) {
    yield* gens[0]!;
    return;
  }
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  const next = (i: number) => {
    const p = gens[i]!.next().then((r) => ({ i, r }));
    // When one node fails, the others' pending pages are abandoned: their
    // failures must not surface later as unhandled rejections.
    p.catch(() => undefined);
    pending.set(i, p);
  };
  gens.forEach((_, i) => next(i));
  try {
    while (pending.size) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) pending.delete(i);
      else {
        next(i);
        yield r.value;
      }
    }
  } finally {
    await Promise.allSettled(gens.map((g) => g.return(undefined)));
  }
}

/** DBSIZE per master, for progress and for "scanned vs DBSIZE". */
export async function countKeys(target: Target): Promise<{ node: string; keys: number }[]> {
  return Promise.all(
    target.masters().map(async (n) => {
      try {
        return { node: n.address, keys: await n.client.dbsize() };
      } catch (e) {
        throw target.failAt(n.address, e);
      }
    }),
  );
}
