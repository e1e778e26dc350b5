import { lstatSync, readFileSync } from 'node:fs';
import { InputError, UsageError } from '../../errors.js';
import { writeFileAtomic } from '../atomicFile.js';
import type { NodeHandle, Target } from '../connect/target.js';
import { keepIdleTimes } from '../connect/target.js';
import { globToRegExp, keyMatches } from '../glob.js';
import type { Rails } from '../rails.js';
import { keyOf, parseJson, recordHead, validateRecord, type Header, type KeyRecord } from '../backup/format.js';
import { withKey } from '../keyname.js';
import { newRestorer, type RestoreOptions, type RestoreSummary, type Restorer } from '../backup/restore.js';
import { KeyBackup, type RecordSink } from '../backup/writer.js';

/**
 * Copies keys from one live deployment to another with no file between
 * them: each source master is walked with SCAN, a page's keys are read the
 * way `backup` reads them and written the way `restore` writes them (every
 * key whole and atomic: RESTORE, or built under a temporary name and renamed),
 * and only when the destination has acknowledged a page is its cursor saved
 * to the checkpoint. A run that stops (killed, a lost connection, a budget)
 * is resumed by the same command: it redoes at most the page in progress on
 * each node, and since every key is written whole, a redone key is never
 * duplicated (a list's elements are not pushed twice).
 */
export interface CopyOptions {
  match: string[];
  types: string[];
  count: number;
  restore: Pick<RestoreOptions, 'mode' | 'ttl'>;
  /** Source databases to copy (default: the one --from names). */
  dbs?: number[];
  /** Source database → destination database (default: --to's database for --from's, the same number for the others). */
  dbMap?: Map<number, number>;
  checkpoint?: string;
  /** Keys beginning with `from` are written under `to` instead (a new namespace). */
  rename?: { from: Buffer; to: Buffer };
  signal?: AbortSignal;
  onProgress?: (keys: number) => void;
}

export interface CopySummary extends RestoreSummary {
  from: string;
  to: string;
  /** Nodes walked to their end, of all source masters. */
  nodesDone: number;
  nodes: number;
  resumed: boolean;
  /** Keys SCAN returned that were gone by the time they were read. */
  vanished: number;
}

interface Checkpoint {
  format: 'redis-ops-copy-checkpoint';
  from: string;
  to: string;
  match: string[];
  types: string[];
  nodes: Record<string, { cursor: string; keys: number; done: boolean }>;
  updatedAt: string;
}

export async function copyKeys(from: Target, to: Target, rails: Rails, opts: CopyOptions): Promise<CopySummary> {
  const fromName = `${from.address}/${from.db}`;
  const toName = `${to.address}/${to.db}`;
  const checkpoint = loadCheckpoint(opts.checkpoint, fromName, toName, opts);
  const resumed = Object.keys(checkpoint.nodes).length > 0;
  const dbs = opts.dbs ?? [from.db];
  const dbMap = new Map(dbs.map((db) => [db, opts.dbMap?.get(db) ?? (db === from.db ? to.db : db)]));
  // Checked before anything is copied: a database a cluster cannot hold would stop the copy halfway.
  const unplaceable = [...dbMap].find(([, d]) => to.mode === 'cluster' && d !== 0);
  if (unplaceable) throw new UsageError(`${to.address} is a cluster, which has only database 0: --from holds database ${unplaceable[0]} (use --db-map ${unplaceable[0]}:0)`);
  // A node's place in the checkpoint: its address and the database walked there.
  const place = (address: string, db: number) => `${address}/${db}`;
  const masters = from.masters();
  const known = new Set(masters.flatMap((m) => dbs.map((db) => place(m.address, db))));
  const unknown = Object.keys(checkpoint.nodes).filter((a) => !known.has(a));
  if (unknown.length) throw new UsageError(`--checkpoint ${opts.checkpoint}: it names source node(s) ${unknown.join(', ')} that are not masters of ${from.address} now (a failover or resharding since), or databases not asked for: start a new checkpoint`);
  const summaries: RestoreSummary[] = [];
  let vanished = 0;
  let copied = 0;
  await keepIdleTimes(from);
  await rails.openLog();
  // The destination's CPU is what limits a copy: strings go as plain SET … NX where they can (setBatch.ts).
  const restoreOpts: RestoreOptions = { ...opts.restore, match: [], types: [], dbMap, signal: opts.signal, plainStrings: true };
  // Each source master walks on its own: its own reader, its own writer, its
  // own cursor. One failing stops the others at their next page.
  let failed = false;
  const save = () => { if (!rails.dryRun) saveCheckpoint(opts.checkpoint, checkpoint); };
  for (const db of dbs) {
    if (opts.signal?.aborted || failed) break;
    const source = db === from.db ? from : await from.forDb(db);
    try {
      await Promise.all(source.masters().map(async (node) => {
        const state = (checkpoint.nodes[place(node.address, db)] ??= { cursor: '0', keys: 0, done: false });
        if (state.done) return;
        const writer = newRestorer(to, restoreOpts, rails, `copy from ${fromName}`);
        const sink = new WriterSink(writer, (e) => to.fail(e), opts.rename);
        const reader = new KeyBackup(source, sink, opts.types);
        try {
          let cursor = state.cursor;
          // The last page queued: its writes acknowledged, then its cursor saved.
          let written: Promise<void> = Promise.resolve();
          // The page before it: the reader waits for that one, so it reads at
          // most two pages ahead of the destination (2% faster than one page
          // ahead, three alternating runs each).
          let before: Promise<void> = Promise.resolve();
          do {
            if (opts.signal?.aborted || sink.stopped || failed) break;
            const [next, names] = await scanPage(source, node, cursor, opts);
            // This page is read while earlier ones are written; its lines
            // wait for the last page's write (sink.gate), so the destination
            // holds at most one page not yet in the checkpoint.
            sink.gate = written;
            await reader.add(node, db, names);
            await reader.drain();
            const prior = written;
            // Cursors are saved in page order: this page's after the last one's.
            const pageDone = sink.onDestination(Promise.all([prior, sink.settled()]).then(() => writer.sync())).then(() => {
              if (sink.stopped) return; // a budget of the rails: this page is redone next time
              state.cursor = next;
              state.keys += names.length;
              state.done = next === '0';
              save();
              copied += names.length;
              opts.onProgress?.(copied);
            });
            pageDone.catch(() => undefined); // awaited as the next page's gate, or below
            written = pageDone;
            await before;
            before = prior;
            cursor = next;
          } while (cursor !== '0');
          await written;
          vanished += reader.summary.vanished;
          summaries.push(await sink.onDestination(writer.finish()));
        } catch (e) {
          failed = true;
          throw e;
        } finally {
          // Lines still queued are dropped (their page is redone on resume), and the writer is idle before it closes.
          await sink.halt();
          await writer.close();
        }
      }));
    } finally {
      if (source !== from) await source.close();
    }
  }
  const total = summaries.reduce((acc, s) => {
    for (const k of ['records', 'keys', 'created', 'replaced', 'skipped', 'expired', 'filtered', 'empty'] as const) acc[k] += s[k];
    acc.stoppedBy ??= s.stoppedBy;
    return acc;
  }, { dryRun: rails.dryRun, source: fromName, records: 0, keys: 0, created: 0, replaced: 0, skipped: 0, expired: 0, filtered: 0, empty: 0, durationMs: 0, stoppedBy: null } as RestoreSummary);
  const all = [...known];
  const nodesDone = all.filter((k) => checkpoint.nodes[k]?.done).length;
  return { ...total, stoppedBy: total.stoppedBy ?? rails.stopReason, from: fromName, to: toName, nodesDone, nodes: all.length, resumed, vanished };
}

async function scanPage(from: Target, node: NodeHandle, cursor: string, opts: CopyOptions): Promise<[string, Buffer[]]> {
  const args: (string | number)[] = [cursor, 'COUNT', opts.count];
  if (opts.match.length === 1) args.push('MATCH', opts.match[0]!);
  if (opts.types.length === 1) args.push('TYPE', opts.types[0]!);
  try {
    const [next, names] = (await node.client.scanBuffer(...(args as [string]))) as unknown as [Buffer, Buffer[]];
    const patterns = opts.match.length > 1 ? opts.match.map(globToRegExp) : [];
    return [String(next), names.filter((k) => keyMatches(k, patterns))];
  } catch (e) {
    throw from.failAt(node.address, e);
  }
}

/** Lines of records read and not yet applied, at most: a page of small keys is far less, a big key's parts wait. */
const QUEUED_BYTES = 16 << 20;

/** Record lines from the reader, applied to the destination as they come (the raw fast path where it can). */
class WriterSink implements RecordSink {
  records = 0;
  byteCount = 0;
  stopped = false;
  /** Lines are applied only once this settles (the previous page written). */
  gate: Promise<void> = Promise.resolve();
  private lineNo = 0;
  /** The last chunk handed on: each chunk is applied after the one before. */
  private tail: Promise<void> = Promise.resolve();
  /** Bytes of lines handed on and not yet applied. */
  private queued = 0;

  /**
   * `fail` names the destination in an error of its connection: left raw, the
   * error would reach the command as one of --from's (the reader's
   * connection is the command's own) and name the wrong server.
   */
  constructor(private readonly writer: Restorer, private readonly fail: (e: unknown) => Error, private readonly rename?: CopyOptions['rename']) {}

  /** A step of the writer, its failure named as the destination's. */
  async onDestination<T>(step: Promise<T>): Promise<T> {
    try {
      return await step;
    } catch (e) {
      throw this.fail(e);
    }
  }

  async header(_h: Header): Promise<void> {}

  private renamed(r: KeyRecord): KeyRecord {
    return this.rename ? renameRecord(r, this.rename) : r;
  }

  /**
   * Hands a chunk of lines on and returns at once, so the reader goes on
   * reading the next page while this one is written: the chunk is applied
   * after the chunks before it and after `gate`. Only when more than
   * QUEUED_BYTES wait (a big key's parts) does the reader wait too, which
   * bounds memory.
   */
  async lines(chunk: Buffer): Promise<void> {
    const gate = this.gate;
    this.queued += chunk.length;
    const step = this.tail.then(() => gate).then(() => this.apply(chunk)).finally(() => { this.queued -= chunk.length; });
    step.catch(() => undefined); // surfaces through settled(), awaited for every page
    this.tail = step;
    if (this.queued > QUEUED_BYTES) await step;
  }

  /** Settles once every chunk handed on so far has been applied (rejects with the first failure). */
  settled(): Promise<void> {
    return this.tail;
  }

  /** Applies no more lines, and settles once the one being applied is done (whatever its outcome). */
  async halt(): Promise<void> {
    this.stopped = true;
    await this.tail.catch(() => undefined);
  }

  private async apply(chunk: Buffer): Promise<void> {
    this.byteCount += chunk.length;
    for (let at = 0; at < chunk.length;) {
      const end = chunk.indexOf(0x0a, at);
      const line = chunk.subarray(at, end);
      at = end + 1;
      this.records++;
      this.lineNo++;
      if (this.stopped) continue;
      const head = this.rename ? null : recordHead(line);
      const where = `copy record ${this.lineNo}`;
      const ok = head
        ? await this.onDestination(this.writer.apply({ raw: line, head, lineNo: this.lineNo }))
        : await this.onDestination(this.writer.apply({ record: this.renamed(validateRecord(parseJson(line.toString('utf8'), where), where)), lineNo: this.lineNo }));
      if (!ok) this.stopped = true;
    }
  }
}

/** With --rename-prefix: the record under its new name (bytes, so any key can be renamed). */
function renameRecord(r: KeyRecord, rename: NonNullable<CopyOptions['rename']>): KeyRecord {
  const key = keyOf(r);
  if (!key.subarray(0, rename.from.length).equals(rename.from)) return r;
  const { key: _k, key64: _b, ...rest } = r;
  return withKey(Buffer.concat([rename.to, key.subarray(rename.from.length)]), rest) as KeyRecord;
}

function loadCheckpoint(path: string | undefined, from: string, to: string, opts: CopyOptions): Checkpoint {
  const fresh: Checkpoint = { format: 'redis-ops-copy-checkpoint', from, to, match: opts.match, types: opts.types, nodes: {}, updatedAt: new Date().toISOString() };
  if (!path) return fresh;
  // Read whole and replaced atomically: only a regular file can be (a FIFO would block the read, a link could point anywhere).
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return fresh;
  }
  if (st.isSymbolicLink()) throw new UsageError(`--checkpoint: ${path} is a symbolic link: name the file itself`);
  if (!st.isFile()) throw new UsageError(`--checkpoint: ${path} is not a regular file`);
  if (st.size === 0) return fresh;
  let c: Checkpoint;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  } catch (e) {
    throw new InputError(`--checkpoint ${path}: not a checkpoint (${(e as Error).message.split('\n')[0]})`);
  }
  if (c?.format !== 'redis-ops-copy-checkpoint' || typeof c.nodes !== 'object' || c.nodes === null) throw new InputError(`--checkpoint ${path}: not a redis-ops copy checkpoint`);
  const same = c.from === from && c.to === to && JSON.stringify(c.match) === JSON.stringify(opts.match) && JSON.stringify(c.types) === JSON.stringify(opts.types);
  if (!same) throw new UsageError(`--checkpoint ${path} is of another copy (${c.from} → ${c.to}, patterns ${JSON.stringify(c.match)}): resume it with the same arguments, or name a new file`);
  for (const [node, s] of Object.entries(c.nodes)) {
    if (typeof s?.cursor !== 'string' || !/^\d+$/.test(s.cursor) || typeof s.done !== 'boolean') throw new InputError(`--checkpoint ${path}: node ${node} has no valid cursor`);
  }
  return c;
}

function saveCheckpoint(path: string | undefined, c: Checkpoint): void {
  if (!path) return;
  c.updatedAt = new Date().toISOString();
  writeFileAtomic(path, `${JSON.stringify(c, null, 2)}\n`, 0o600, '--checkpoint');
}
