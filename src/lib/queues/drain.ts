import type { Target } from '../connect/target.js';
import { keyJson } from '../keyname.js';
import type { ItemOutcome, Rails } from '../rails.js';
import { jobId } from './jsonField.js';
import type { QueueRef } from './model.js';
import { moveItems, type MoveSpec } from './move.js';
import { adapterOf } from './systems/index.js';

/**
 * The one engine behind retry-drain, dead requeue and dead purge: pages
 * through a source LIST (from its tail, the oldest end) or ZSET (lowest score
 * first), asks `decide` what to do with each job, and moves the chosen ones
 * atomically in batches (move.ts), through the rails. Jobs left in place are
 * skipped by offset, so concurrent pushes and pops elsewhere do not matter.
 */
export type Decision =
  | { move: true; spec: MoveSpec; next: Buffer; label: string; /** Why this job is moved (a dry run lists it). */ why?: string }
  | { move: false; reason: string };

export interface DrainSource {
  key: string;
  kind: 'list' | 'zset';
  /** ZSET: only entries scored up to this (e.g. due retries: now). */
  maxScore?: number;
}

export interface DrainResult {
  dryRun: boolean;
  source: string;
  considered: number;
  moved: Record<string, number>;
  left: Record<string, number>;
  /** Taken by another client between our read and our move. */
  gone: number;
  /** Items that could not be parsed (the first 20), left where they are. */
  malformed: { sample: string }[];
  stopped: string | null;
  /** A dry run: every job it would move, where to and why (the job's id, or its text). */
  items?: ({ action: string; to: string | null; reason: string; job?: string } & Record<string, string | null | undefined>)[];
}

const PAGE = 100;

export async function drain(t: Target, source: DrainSource, decide: (stored: Buffer) => Decision, rails: Rails): Promise<DrainResult> {
  const result: DrainResult = { dryRun: rails.dryRun, source: source.key, considered: 0, moved: {}, left: {}, gone: 0, malformed: [], stopped: null };
  await rails.openLog();
  let skip = 0;
  for (;;) {
    const page = source.kind === 'list'
      ? (await t.client.lrangeBuffer(source.key, -(skip + PAGE), -(skip + 1))).reverse()
      : await t.client.zrangebyscoreBuffer(source.key, '-inf', source.maxScore ?? '+inf', 'LIMIT', skip, PAGE);
    if (!page.length) break;
    const moves: Move[] = [];
    for (const stored of page) {
      result.considered++;
      const d = decide(stored);
      if (d.move) moves.push({ stored, d });
      else {
        skip++;
        result.left[d.reason] = (result.left[d.reason] ?? 0) + 1;
        if (d.reason === 'malformed' && result.malformed.length < 20) result.malformed.push({ sample: stored.toString('utf8').slice(0, 200) });
      }
    }
    // --rate admits a page in chunks; null means a budget is spent (or Ctrl-C).
    let left = moves;
    while (left.length) {
      const step = await rails.apply(left, {
        write: (now) => moveGroups(t, now),
        change: (m) => change(source, m.stored, m.d),
      });
      if (!step) break;
      left = left.slice(step.items.length);
      step.items.forEach((m, k) => {
        const o = step.outcomes[k]!;
        if (o === 'gone') result.gone++;
        else result.moved[m.d.label] = (result.moved[m.d.label] ?? 0) + 1;
        if (o === 'planned') {
          // A dry run moves nothing: the next page starts past these, and each is listed.
          skip++;
          const id = jobId(m.stored.toString('utf8'));
          (result.items ??= []).push({ action: m.d.label, to: m.d.spec.target, reason: m.d.why ?? m.d.label, ...(id ? { job: id } : {}), ...jobText(m.stored) });
        }
      });
    }
    if (left.length) {
      // The jobs not admitted stay where they are.
      result.stopped = rails.stopReason;
      break;
    }
  }
  return result;
}

type Move = { stored: Buffer; d: Extract<Decision, { move: true }> };

/** Moves jobs, consecutive ones bound for the same target in one script call: 'done', or 'gone' (another client took it first). */
async function moveGroups(t: Target, moves: Move[]): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = [];
  for (let i = 0; i < moves.length;) {
    let j = i + 1;
    while (j < moves.length && sameSpec(moves[j]!.d.spec, moves[i]!.d.spec)) j++;
    const group = moves.slice(i, j);
    const ok = await moveItems(t, group[0]!.d.spec, group.map((m) => ({ stored: m.stored, next: m.d.next })));
    outcomes.push(...ok.map((moved): ItemOutcome => (moved ? 'done' : 'gone')));
    i = j;
  }
  return outcomes;
}

function sameSpec(a: MoveSpec, b: MoveSpec): boolean {
  return a.target === b.target && a.targetKind === b.targetKind && a.score === b.score && a.registry?.member === b.registry?.member;
}

function change(source: DrainSource, stored: Buffer, d: Extract<Decision, { move: true }>) {
  const id = jobId(stored.toString('utf8'));
  return { key: Buffer.from(source.key), action: d.label, detail: { to: d.spec.target, ...(id ? { job: id } : {}), ...jobText(stored) } };
}

function jobText(b: Buffer): Record<string, string> {
  const j = keyJson(b);
  return 'key' in j ? { item: j.key } : { item64: j.key64 };
}

export interface DrainPlan {
  source: DrainSource;
  decide: (stored: Buffer) => Decision;
  describe: string;
}

/** retry-drain: due retries (or all) back to their queue; past --max-retries to the dead letters. */
export function retryDrainPlan(ref: QueueRef, opts: { all: boolean; maxRetries?: number; now?: number }): DrainPlan {
  return adapterOf(ref).retryDrainPlan(ref, { all: opts.all, maxRetries: opts.maxRetries ?? ref.maxRetries, now: opts.now ?? Date.now() });
}

/** dead requeue: dead letters back to the main queue with the retry counter reset to 0. */
export function deadRequeuePlan(ref: QueueRef, now = Date.now()): DrainPlan {
  return adapterOf(ref).deadRequeuePlan(ref, now);
}

/** dead purge: removes dead letters (only the ones read, one by one). */
export function deadPurgePlan(ref: QueueRef): DrainPlan {
  return adapterOf(ref).deadPurgePlan(ref);
}
