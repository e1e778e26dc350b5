import type { Redis } from 'ioredis';
import { PermissionError, UsageError } from '../../errors.js';
import type { NodeHandle, Target } from '../connect/target.js';
import { versionAtLeast } from '../connect/target.js';
import { Pace } from '../pace.js';
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
  /** At most this many keys per second (per whole walk). */
  rate?: number;
  /** Called once per node with why the probe script could not be used. */
  onFallback?: (node: string, reason: string) => void;
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
  db: number;
  keys: KeyInfo[];
  /** Keys SCAN returned that were gone by the time they were probed. */
  vanished: number;
}

export const KEY_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream'] as const;

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
  const pace = new Pace(opts.rate);
  const nodes = target.masters();
  const walkers = nodes.map((n) => walkNode(target, n, opts, pace));
  yield* merge(walkers);
}

export function probeMask(p: ProbeFields | undefined): number {
  if (!p) return 0;
  return (p.type ? 1 : 0) | (p.ttl ? 2 : 0) | (p.memory ? 4 : 0) | (p.idle ? 8 : 0) | (p.length ? 16 : 0);
}

async function* walkNode(target: Target, node: NodeHandle, opts: WalkOptions, pace: Pace): AsyncGenerator<WalkBatch> {
  const mask = probeMask(opts.probe);
  const scanType = opts.type && versionAtLeast(target.serverVersion, '6.0.0') ? opts.type : undefined;
  // Before 6.0 SCAN has no TYPE: filter here, which needs the type.
  const clientFilterType = opts.type && !scanType ? opts.type : undefined;
  const fieldsMask = mask | (clientFilterType ? 1 : 0);
  let useScript = fieldsMask !== 0;
  const script = useScript ? loadScript('scan-probe-0', target.serverVersion) : null;
  let cursor: Buffer | string = '0';
  const count = opts.rate ? pace.chunk(opts.count) : opts.count;
  for (;;) {
    if (opts.signal?.aborted) return;
    let keys: KeyInfo[];
    let vanished = 0;
    try {
      if (useScript && script) {
        const reply = (await runScript(node.client, script, [], [cursor, count, fieldsMask, opts.match ?? '', scanType ?? ''])) as (Buffer | number)[];
        cursor = reply[0] as Buffer;
        ({ keys, vanished } = decodeProbeReply(reply, fieldsMask));
      } else {
        const args: (string | Buffer | number)[] = [cursor, 'COUNT', count];
        if (opts.match) args.push('MATCH', opts.match);
        if (scanType) args.push('TYPE', scanType);
        const [next, names] = (await (node.client as Redis).scanBuffer(...(args as [string]))) as unknown as [Buffer, Buffer[]];
        cursor = next;
        keys = names.map((key) => ({ key }));
        if (fieldsMask) ({ keys, vanished } = await probeWithPipeline(node.client, keys, fieldsMask));
      }
    } catch (e) {
      const err = target.fail(e);
      if (useScript && err instanceof PermissionError) {
        useScript = false;
        opts.onFallback?.(node.address, `EVAL is not allowed for this user; reading keys with pipelined commands (slower)`);
        continue;
      }
      if (/idle time not tracked|LFU/i.test(String((e as Error).message))) {
        throw new UsageError(`${node.address} uses an LFU maxmemory-policy, which does not track idle time: idle-based selection is not possible there`);
      }
      throw err;
    }
    if (clientFilterType) keys = keys.filter((k) => k.type === clientFilterType);
    await pace.take(keys.length, opts.signal);
    yield { node: node.address, db: target.db, keys, vanished };
    if (String(cursor) === '0') return;
  }
}

function decodeProbeReply(reply: (Buffer | number)[], mask: number): { keys: KeyInfo[]; vanished: number } {
  const width = 1 + bitCount(mask);
  const keys: KeyInfo[] = [];
  let vanished = 0;
  for (let i = 1; i < reply.length; i += width) {
    const info: KeyInfo = { key: reply[i] as Buffer };
    let j = i + 1;
    let gone = false;
    if (mask & 1) {
      info.type = String(reply[j++]);
      gone = info.type === 'none';
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
    const type = String(r[0][1]);
    const pttl = Number(r[1][1]);
    if (type === 'none' || pttl === -2) {
      vanished++;
      return;
    }
    let j = 2;
    const info: KeyInfo = { key: k.key };
    if (mask & 1) info.type = type;
    if (mask & 2) info.ttlMs = pttl === -1 ? null : pttl;
    if (mask & 4) info.bytes = nonNegative(r[j++][1]);
    if (mask & 8) info.idleSec = nonNegative(r[j++][1]);
    out.push(info);
    types.push(type);
  });
  if (mask & 16 && out.length) {
    const lp = client.pipeline();
    out.forEach((info, i) => {
      const cmd = LENGTH_COMMAND[types[i]];
      if (cmd) lp.call(cmd, info.key);
      else lp.echo('-1');
    });
    const lens = (await lp.exec()) ?? [];
    out.forEach((info, i) => { info.length = nonNegative(lens[i]?.[1]); });
  }
  return { keys: out, vanished };
}

export const LENGTH_COMMAND: Record<string, string> = {
  string: 'STRLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD', hash: 'HLEN', stream: 'XLEN',
};

function nonNegative(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function bitCount(n: number): number {
  let c = 0;
  for (let v = n; v; v >>= 1) c += v & 1;
  return c;
}

/** Interleaves several async generators, yielding whatever is ready first. */
async function* merge<T>(gens: AsyncGenerator<T>[]): AsyncGenerator<T> {
  if (gens.length === 1) {
    yield* gens[0];
    return;
  }
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  const next = (i: number) => pending.set(i, gens[i].next().then((r) => ({ i, r })));
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
        throw target.fail(e);
      }
    }),
  );
}
