import { constants, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { UsageError } from '../errors.js';
import { keyJson } from './keyname.js';
import { Pace } from './pace.js';

/**
 * The shared safety rails of every command that writes: dry-run,
 * confirmation (or --yes off a TTY), budgets (--limit, --rate,
 * --max-duration), and an NDJSON change log (--log).
 */
export interface RailsOptions {
  command: string;
  dryRun: boolean;
  yes: boolean;
  limit?: number;
  rate?: number;
  maxDurationMs?: number;
  logPath?: string;
}

/** What a command is about to do, for the confirmation prompt. */
export interface PlanSummary {
  /** e.g. "UNLINK 1,204 keys matching session:*" */
  description: string;
  /** A few of the items, in printable form. */
  sample: string[];
  target: string;
  /**
   * The plan covers every key of a database (pattern *, or as many keys as
   * DBSIZE): at a terminal the operator types this (host:port/db) instead of y.
   */
  everyKeyOf?: string;
}

export interface ConfirmIO {
  interactive: boolean;
  info(message: string): void;
  confirm(question: string): Promise<boolean>;
  ask(question: string): Promise<string>;
}

/** A pattern that matches every key: *, **, … */
export function matchesEveryKey(pattern: string): boolean {
  return /^\*+$/.test(pattern);
}

export type StopReason = 'limit' | 'max-duration' | 'interrupted';

export interface ChangeRecord {
  /** The key changed; absent for changes that are not about one key (SLOWLOG RESET). */
  key?: Buffer;
  action: string;
  node?: string;
  db?: number;
  detail?: Record<string, unknown>;
}

/**
 * What became of one item of a batch: changed ('done'), what a dry run
 * would change ('planned'), or left alone, with why ('gone', 'worker came back'…).
 */
export type ItemOutcome = 'done' | 'planned' | (string & {});

/** A writing capability's atomic apply step, as rails.apply runs it. */
export interface ApplyStep<T> {
  /** Changes a batch (atomically per item, or per batch): each item's outcome, in order. Never called in a dry run. */
  write(batch: T[]): Promise<ItemOutcome[]>;
  /** The change-log line of an item that was changed (or would be). */
  change(item: T, outcome: ItemOutcome): ChangeRecord;
}

export interface Applied<T> {
  /** The items admitted, in order, with their outcomes. */
  items: T[];
  outcomes: ItemOutcome[];
}

/** Whether an item was changed, or would be in a dry run. */
export const isChange = (o: ItemOutcome): boolean => o === 'done' || o === 'planned';

/** Append, create owner-only, and never through a symbolic link (ELOOP). */
const LOG_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

export class Rails {
  private readonly pace: Pace;
  private readonly started = Date.now();
  private changed = 0;
  private log: WriteStream | null = null;
  stopReason: StopReason | null = null;

  constructor(readonly options: RailsOptions, private readonly signal?: AbortSignal) {
    this.pace = new Pace(options.rate);
  }

  get dryRun(): boolean {
    return this.options.dryRun;
  }

  /** No --limit, --rate or --max-duration: callers may skip admit() per item and check `interrupted`. */
  get unbudgeted(): boolean {
    return this.options.limit === undefined && this.options.rate === undefined && this.options.maxDurationMs === undefined;
  }

  /** Ctrl-C was pressed (and records it as the reason to stop). */
  get interrupted(): boolean {
    if (this.signal?.aborted) this.stopReason = 'interrupted';
    return Boolean(this.signal?.aborted);
  }

  /**
   * Asks before acting. With --yes: go. On a terminal: show the plan and ask.
   * Otherwise refuse, so that cron never changes data it was not told to.
   */
  async confirm(plan: PlanSummary, io: ConfirmIO): Promise<void> {
    if (this.options.dryRun || this.options.yes) return;
    if (!io.interactive) {
      throw new UsageError(`refusing to change data without confirmation: ${plan.description} on ${plan.target}; pass --yes to proceed or --dry-run to preview`);
    }
    io.info(`About to ${plan.description} on ${plan.target}.`);
    if (plan.sample.length) io.info(`For example:\n${plan.sample.map((s) => `  ${s}`).join('\n')}`);
    if (plan.everyKeyOf !== undefined) {
      // A y typed by habit must not empty a database.
      const answer = await io.ask(`This changes every key of ${plan.everyKeyOf}. Type ${plan.everyKeyOf} to confirm:`);
      if (answer.trim() !== plan.everyKeyOf) throw new UsageError(`cancelled: the answer was not ${plan.everyKeyOf}; nothing was changed`);
      return;
    }
    const ok = await io.confirm('Proceed?');
    if (!ok) throw new UsageError('cancelled: nothing was changed');
  }

  /**
   * Waits for the rate and returns how many of `want` items may be changed
   * now: 0 once a budget is spent (and stopReason says which).
   */
  async admit(want: number): Promise<number> {
    if (this.signal?.aborted) {
      this.stopReason = 'interrupted';
      return 0;
    }
    if (this.options.maxDurationMs !== undefined && Date.now() - this.started >= this.options.maxDurationMs) {
      this.stopReason = 'max-duration';
      return 0;
    }
    let n = this.pace.chunk(want);
    if (this.options.limit !== undefined) {
      const left = this.options.limit - this.changed;
      if (left <= 0) {
        this.stopReason = 'limit';
        return 0;
      }
      n = Math.min(n, left);
    }
    await this.pace.take(n, this.signal);
    if (this.signal?.aborted) {
      this.stopReason = 'interrupted';
      return 0;
    }
    return n;
  }

  /**
   * The one place a write happens: admits what the budgets allow of
   * `items` (--limit, --rate, --max-duration, Ctrl-C), writes them through
   * the capability's step unless this is a dry run (then every admitted item
   * is 'planned'), and logs every change. Null once a budget is spent
   * (stopReason says which); the items not admitted are left as they are.
   */
  async apply<T>(items: T[], step: ApplyStep<T>): Promise<Applied<T> | null> {
    const n = await this.admit(items.length);
    if (n === 0) return null;
    const batch = items.slice(0, n);
    const outcomes = this.options.dryRun ? batch.map((): ItemOutcome => 'planned') : await step.write(batch);
    await this.record(batch.flatMap((item, i) => (isChange(outcomes[i]!) ? [step.change(item, outcomes[i]!)] : [])));
    return { items: batch, outcomes };
  }

  /**
   * Counts changes against --limit and writes them to --log. A dry run counts
   * what it would change, so its preview stops where the real run would.
   */
  async record(changes: ChangeRecord[]): Promise<void> {
    this.changed += changes.length;
    if (this.options.dryRun || !this.options.logPath || changes.length === 0) return;
    const log = this.log ?? this.openLogNow();
    const time = new Date().toISOString();
    const lines = changes.map((c) => JSON.stringify({
      time, command: this.options.command, ...(c.node ? { node: c.node } : {}), ...(c.db !== undefined ? { db: c.db } : {}),
      ...(c.key ? keyJson(c.key) : {}), action: c.action, ...(c.detail ?? {}),
    }));
    if (!log.write(lines.join('\n') + '\n')) await once(log, 'drain');
  }

  /** Verifies the log file can be opened before any change is made. */
  async openLog(): Promise<void> {
    if (this.options.dryRun || !this.options.logPath || this.log) return;
    this.openLogNow();
  }

  private openLogNow(): WriteStream {
    const path = this.options.logPath!;
    let fd: number;
    try {
      fd = openSync(path, LOG_FLAGS, 0o600);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(code === 'ELOOP' ? `--log: ${path} is a symbolic link: name the file itself` : `--log: cannot open ${path} (${code ?? (e as Error).message})`);
    }
    const log = createWriteStream('', { fd });
    log.on('error', () => {});
    this.log = log;
    return log;
  }

  get changedCount(): number {
    return this.changed;
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  async close(): Promise<void> {
    if (!this.log) return;
    const log = this.log;
    this.log = null;
    await new Promise<void>((resolve) => log.end(resolve));
  }
}
