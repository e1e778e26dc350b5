import type { Target } from '../connect/target.js';
import { walkKeys, type KeyInfo, type WalkOptions } from '../scan/walk.js';

export interface KeyScanOptions {
  match?: string | Buffer;
  type?: string;
  count: number;
  /** Stop after this many matching keys (a result size, not a budget). */
  limit?: number;
  noTtl?: boolean;
  ttlBelowMs?: number;
  idleOverSec?: number;
  /** Read type and TTL for every key (JSON output needs them). */
  details?: boolean;
  signal?: AbortSignal;
  onFallback?: WalkOptions['onFallback'];
}

export interface KeyPage {
  node: string;
  db: number;
  keys: KeyInfo[];
  /** Keys the server looked at for this page (matching or not), for progress. */
  seen: number;
}

/**
 * The matching keys, page by page. Filters that need per-key data (TTL,
 * idle time) are read by the walk's probe and applied here.
 */
export async function* scanKeys(target: Target, opts: KeyScanOptions): AsyncGenerator<KeyPage> {
  const needTtl = Boolean(opts.details || opts.noTtl || opts.ttlBelowMs !== undefined);
  const probe = {
    type: Boolean(opts.details),
    ttl: needTtl,
    idle: opts.idleOverSec !== undefined,
  };
  let emitted = 0;
  for await (const batch of walkKeys(target, {
    match: opts.match, type: opts.type, count: opts.count, signal: opts.signal, probe, onFallback: opts.onFallback,
  })) {
    let keys = batch.keys.filter((k) => matchesFilters(k, opts));
    if (opts.limit !== undefined && emitted + keys.length > opts.limit) keys = keys.slice(0, opts.limit - emitted);
    emitted += keys.length;
    yield { node: batch.node, db: batch.db, keys, seen: batch.keys.length + batch.vanished };
    if (opts.limit !== undefined && emitted >= opts.limit) return;
  }
}

export function matchesFilters(k: KeyInfo, opts: Pick<KeyScanOptions, 'noTtl' | 'ttlBelowMs' | 'idleOverSec'>): boolean {
  if (opts.noTtl && k.ttlMs !== null) return false;
  if (opts.ttlBelowMs !== undefined && (k.ttlMs === null || k.ttlMs === undefined || k.ttlMs >= opts.ttlBelowMs)) return false;
  if (opts.idleOverSec !== undefined && (k.idleSec === null || k.idleSec === undefined || k.idleSec < opts.idleOverSec)) return false;
  return true;
}
