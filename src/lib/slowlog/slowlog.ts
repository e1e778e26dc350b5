import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../atomicFile.js';
import { CONNECTION_NAME, type Target } from '../connect/target.js';
import { closeNodes, discoverNodes } from '../connect/nodes.js';
import type { Rails } from '../rails.js';
import { keyText } from '../keyname.js';
import { redactArgs, truncateArgs } from './redact.js';

export interface SlowlogEntry {
  node: string;
  id: number;
  /** Unix seconds when the command ran. */
  time: number;
  durationUs: number;
  command: string;
  args: string[];
  clientAddr: string | null;
  clientName: string | null;
  self: boolean;
}

/**
 * Every SLOWLOG entry of one node (at most slowlog-max-len), redacted and
 * truncated; binary arguments escaped. All of them, not the newest N: the
 * newest may be the tool's own, and filtering those out of N would leave
 * nothing to show (`newest`: only that many, for a view refreshed every second).
 */
export async function readSlowlog(client: Redis, node: string, newest?: number): Promise<SlowlogEntry[]> {
  const len = newest ?? Number(await client.call('SLOWLOG', 'LEN'));
  if (len === 0) return [];
  const raw = (await client.callBuffer('SLOWLOG', 'GET', len)) as unknown[][];
  return markScriptInnards(raw.map((e) => {
    const argv = (e[3] as Buffer[]).map((b) => keyText(Buffer.isBuffer(b) ? b : Buffer.from(String(b))));
    const args = truncateArgs(redactArgs(argv));
    const clientName = e[5] !== undefined && String(e[5]) !== '' ? String(e[5]) : null;
    return {
      node,
      id: Number(e[0]),
      time: Number(e[1]),
      durationUs: Number(e[2]),
      command: (argv[0] ?? '').toUpperCase(),
      args,
      clientAddr: e[4] !== undefined ? String(e[4]) : null,
      clientName,
      self: clientName !== null && (clientName === CONNECTION_NAME || clientName.startsWith(`${CONNECTION_NAME}:`)),
    };
  }));
}

/**
 * A command run by a script is logged on its own, from the script's client
 * (no name, address "?:0" or empty), just before the script's own entry.
 * Such entries belong to the named connection whose EVAL/EVALSHA/FCALL comes
 * next: ours when that connection is redis-ops's.
 */
export function markScriptInnards(entries: SlowlogEntry[]): SlowlogEntry[] {
  const byId = [...entries].sort((a, b) => b.id - a.id); // newest first
  let owner: SlowlogEntry | null = null;
  for (const e of byId) {
    const inner = e.clientName === null && (e.clientAddr === null || e.clientAddr === '' || e.clientAddr === '?:0');
    if (!inner) {
      owner = /^(EVAL|EVALSHA|EVAL_RO|EVALSHA_RO|FCALL|FCALL_RO)$/.test(e.command) ? e : null;
      continue;
    }
    if (owner?.self && owner.time - e.time <= 1) e.self = true;
  }
  return entries;
}

/**
 * --state FILE: the newest id seen per node, so a cron job reports only
 * what is new. Ids grow across SLOWLOG RESET; a server restart starts them
 * again at 0, which shows as a newest id below the remembered one.
 */
export interface SlowlogState {
  version: 1;
  nodes: Record<string, number>;
}

export function readState(path: string): SlowlogState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nodes: {} };
    throw new UsageError(`--state: cannot read ${path} (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    const s = JSON.parse(text) as SlowlogState;
    if (s.version !== 1 || typeof s.nodes !== 'object' || s.nodes === null) throw new Error('shape');
    return s;
  } catch {
    throw new UsageError(`--state: ${path} is not a redis-ops slowlog state file (delete it to start afresh)`);
  }
}

export function writeState(path: string, state: SlowlogState): void {
  writeFileAtomic(path, `${JSON.stringify(state)}\n`, 0o600, '--slowlog-state');
}

/** Entries newer than the remembered id of their node (all of them after a restart). */
export function newSince(entries: SlowlogEntry[], state: SlowlogState): SlowlogEntry[] {
  const newest = new Map<string, number>();
  for (const e of entries) newest.set(e.node, Math.max(newest.get(e.node) ?? -1, e.id));
  return entries.filter((e) => {
    const seen = state.nodes[e.node];
    if (seen === undefined) return true;
    if ((newest.get(e.node) ?? -1) < seen) return true; // restarted: ids began again
    return e.id > seen;
  });
}

export function advanceState(state: SlowlogState, entries: SlowlogEntry[]): SlowlogState {
  const nodes = { ...state.nodes };
  for (const e of entries) nodes[e.node] = Math.max(e.id, nodes[e.node] ?? -1);
  return { version: 1, nodes };
}

export interface CommandGroup {
  command: string;
  count: number;
  totalUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export function groupByCommand(entries: SlowlogEntry[]): CommandGroup[] {
  const by = new Map<string, number[]>();
  for (const e of entries) {
    const list = by.get(e.command) ?? [];
    list.push(e.durationUs);
    by.set(e.command, list);
  }
  return [...by.entries()].map(([command, ds]) => {
    ds.sort((a, b) => a - b);
    // A group has at least one entry: every pick is defined.
    const pick = (q: number) => ds[Math.min(ds.length - 1, Math.max(0, Math.ceil(q * ds.length) - 1))]!;
    return { command, count: ds.length, totalUs: ds.reduce((a, b) => a + b, 0), p50Us: pick(0.5), p99Us: pick(0.99), maxUs: ds[ds.length - 1]! };
  }).sort((a, b) => b.totalUs - a.totalUs);
}

export interface SlowlogResetPlan {
  /** Every reachable node and how many entries a reset would drop there. */
  nodes: { address: string; entries: number; client: Redis }[];
  close(): void;
}

/** The plan of `slowlog reset` (read-only): SLOWLOG LEN on every reachable node. */
export async function planSlowlogReset(target: Target): Promise<SlowlogResetPlan> {
  const nodes = (await discoverNodes(target)).filter((n) => n.client);
  try {
    const lengths = await Promise.all(nodes.map((n) => n.client!.call('SLOWLOG', 'LEN').then(Number)));
    return { nodes: nodes.map((n, i) => ({ address: n.address, entries: lengths[i] ?? 0, client: n.client! })), close: () => closeNodes(nodes) };
  } catch (e) {
    closeNodes(nodes);
    throw e;
  }
}

/** Applies the plan through the rails (a dry run changes nothing, and says what it would). */
export async function applySlowlogReset(plan: SlowlogResetPlan, rails: Rails): Promise<{ node: string; entries: number; reset: boolean }[]> {
  await rails.openLog();
  const results: { node: string; entries: number; reset: boolean }[] = [];
  for (const n of plan.nodes) {
    const step = await rails.apply([n], {
      write: async () => {
        await n.client.call('SLOWLOG', 'RESET');
        return ['done'];
      },
      change: () => ({ action: 'slowlog-reset', node: n.address, detail: { entries: n.entries } }),
    });
    if (!step) break;
    results.push({ node: n.address, entries: n.entries, reset: step.outcomes[0] === 'done' });
  }
  return results;
}
