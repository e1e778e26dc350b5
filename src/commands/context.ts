import { Command, Option } from 'commander';
import { ExitCode, RedisOpsError, UsageError, withDetail } from '../errors.js';
import { loadConfig, type RedisOpsConfig } from '../lib/config.js';
import { parsePositiveInt } from '../lib/duration.js';
import { resolveConnection, type ConnectionFlags, type ConnectionSpec } from '../lib/connect/spec.js';
import type { Target } from '../lib/connect/target.js';
import type { Rails, RailsOptions } from '../lib/rails.js';
import { formatCount } from '../lib/numbers.js';
import { CONNECTION_FIELDS } from '../lib/connect/fields.js';
import { KEY_TYPES } from '../lib/keyTypes.js';
import { ioFor, processStreams, setExitCode } from './io.js';
import { OUTPUT_FLAGS, optionsOf } from './flagTable.js';
import { Output, stdoutIsProduct, stdoutWasClosed, type OutputFlags } from '../output/output.js';

export interface RunContext {
  target: Target;
  out: Output;
  config: RedisOpsConfig;
  /** Aborted on Ctrl-C: walks stop at the next page and report what they have. */
  signal: AbortSignal;
  /**
   * The rails of a command that writes. The runner then reports, when the
   * run fails, how many `noun` it had changed (in the error, and with --json
   * as a final object {"status":"failed","changed":N,"error"}).
   */
  newRails(options: RailsOptions, noun: string): Promise<Rails>;
  /** Another deployment (diff's --to), resolved like the first and closed with it. */
  openOther(flags: ConnectionFlags): Promise<Target>;
}

/** Which flag holds the TLS client key, for the few commands that use --key for something else. */
const tlsKeyFlag = new WeakMap<Command, string>();

/**
 * The options every command that talks to Redis has. `-n` can be left to the
 * command (slowlog's count); `--key` too (locks reap names a lock with it,
 * and takes the TLS key as --tls-key).
 */
export function addConnectionOptions(cmd: Command, { dbShort = true, tlsKey = '--key' } = {}): Command {
  tlsKeyFlag.set(cmd, tlsKey);
  cmd.optionsGroup('Connection:');
  for (const f of CONNECTION_FIELDS) {
    if (f.flag === null) continue;
    const flag = f.name === 'db' && !dbShort ? '--db' : f.name === 'key' ? tlsKey : f.flag;
    cmd.option('arg' in f ? `${flag} ${f.arg}` : flag, f.help);
  }
  return addOutputOptions(cmd);
}

const repeat = (value: string, previous: string[]) => [...previous, value];
const typeList = KEY_TYPES.join(', ');

/**
 * The key walk's options, one spelling and one help text each; a command
 * chooses only the default (a walk that reads every key asks for fewer per
 * SCAN call than one that only lists names).
 */
export const walkOption = {
  count: (fallback: number) => new Option('--count <n>', 'SCAN COUNT: keys the server looks at per call').default(String(fallback)),
  type: () => new Option('--type <type>', `only keys of this type (${typeList})`),
  types: () => new Option('--type <type>', `only keys of this type (${typeList}; repeatable)`).argParser(repeat).default([]),
  match: () => new Option('--match <pattern>', 'only keys matching PATTERN (repeatable)').argParser(repeat).default([]),
  separator: () => new Option('--separator <sep>', 'key segment separator for patterns').default(':'),
  depth: () => new Option('--depth <n>', 'segments kept in a pattern').default('3'),
  groups: (fallback: number) => new Option('--groups <n>', 'patterns to list before folding the rest into [other]').default(String(fallback)),
  top: () => new Option('--top <n>', 'biggest keys to list').default('10'),
};

/**
 * --all-dbs, one spelling and one meaning everywhere: every non-empty
 * logical database (`detail` says what that means for this command).
 */
export function allDbsOption(detail?: string): Option {
  return new Option('--all-dbs', `every non-empty logical database${detail ? ` ${detail}` : ''}`);
}

export function addOutputOptions(cmd: Command): Command {
  cmd.optionsGroup('Output:');
  for (const o of optionsOf(OUTPUT_FLAGS)) cmd.addOption(o);
  cmd.optionsGroup('Options:');
  return cmd;
}

/**
 * "Show at most N items" is --show N in every command. The old spelling
 * (-n/--count in slowlog, queue peek and queue dead) works for one release,
 * with a line on stderr: -n will then be the database there too, as in
 * redis-cli and every other command, and --count only SCAN COUNT.
 */
export function addShowOption(cmd: Command, what: string, fallback: number): Command {
  return cmd
    .option('--show <n>', `${what} to show (default ${fallback})`)
    .addOption(new Option('-n, --count <n>', 'deprecated: use --show N').hideHelp());
}

export function showCount(cmd: Command, fallback: number, warn: (m: string) => void): number {
  const f = cmd.opts() as { show?: string; count?: string };
  if (f.count !== undefined) {
    const n = parsePositiveInt(f.count, '--count');
    warn(`warning: -n/--count is deprecated here and will become the database (-n) and SCAN COUNT (--count), as in every other command: use --show ${f.count}`);
    if (f.show === undefined) return n;
  }
  return f.show === undefined ? fallback : parsePositiveInt(f.show, '--show');
}

/** A dry run lists what it would change: at most N items as text (20 by default), every one with --json. */
export function dryRunShowOption(): Option {
  return new Option('--show <n>', 'with --dry-run: items to list, each with why it is selected (default 20; --json lists all)');
}

export function dryRunShow(flags: { show?: string }): number {
  return flags.show === undefined ? 20 : parsePositiveInt(flags.show, '--show');
}

export function addRailsOptions(cmd: Command, options: Option[]): Command {
  cmd.optionsGroup('Safety rails:');
  for (const o of options) cmd.addOption(o);
  cmd.optionsGroup('Options:');
  return cmd;
}

/** The Output for a command's flags, on its run's streams; cli.ts uses the same to report errors. */
export function outputFor(flags: OutputFlags, cmd?: Command): Output {
  return new Output(flags, cmd ? ioFor(cmd) : processStreams());
}

/**
 * Connects, runs the command body, disconnects. The body returns an exit
 * code (default 0); errors propagate to cli.ts, which maps them to codes.
 */
export interface RunHooks {
  /** The connection is resolved (health starts its whole-run deadline here). */
  onResolved?: (spec: ConnectionSpec) => void;
  /** A TCP connection to the target is made. */
  onConnect?: () => void;
  /** The connection flags the target comes from, when not the command's own (diff's --from). */
  connection?: ConnectionFlags;
}

/**
 * What a command found: one document for --json, and how it reads as text.
 * The runner picks between them, so no command checks --json itself.
 */
export class Report<T = unknown> {
  constructor(
    readonly doc: T, readonly text: (out: Output) => Promise<void> | void, readonly exit: number = ExitCode.ok,
    /**
     * stderr: the document is a summary beside a product already on stdout (a
     * dry run's NDJSON listing); `lines`: that product, written here as NDJSON.
     */
    readonly where: { json: 'stdout' | 'stderr'; lines?: unknown[] } = { json: 'stdout' },
  ) {}

  /**
   * Writes the report in the form the flags ask for; the exit code it
   * decided. `compact`: one line of JSON (each sample of a --watch).
   */
  async present(out: Output, compact = false): Promise<number> {
    if (out.json && this.where.lines) await out.ndjson(this.where.lines);
    if (out.json && this.where.json === 'stderr') out.infoJson(this.doc);
    else if (out.json) await out.jsonDocument(this.doc, compact);
    else await this.text(out);
    return this.exit;
  }
}

/** What a command body returns: an exit code, or a report (which carries its own). */
export type Outcome = number | void | Report;

export const report = <T>(doc: T, text: (out: Output) => Promise<void> | void, exit: number = ExitCode.ok, where?: Report['where']): Report<T> => new Report(doc, text, exit, where);

/** What every run starts from: flags, output, config, and how a connection is resolved. */
function prepare(cmd: Command) {
  const raw = cmd.opts() as ConnectionFlags & OutputFlags & { config?: string; tlsKey?: string };
  const flags = { ...raw, key: tlsKeyFlag.get(cmd) === '--tls-key' ? raw.tlsKey : raw.key };
  const out = outputFor(flags, cmd);
  const io = ioFor(cmd);
  const config = loadConfig(flags.config, io.env);
  for (const w of config.warnings ?? []) out.warn(w);
  const resolveWith = (f: ConnectionFlags) => resolveConnection(f, {
    env: io.env,
    config,
    warn: (m) => out.warn(m),
    askPassword: out.interactive ? () => out.askSecret('Password:') : undefined,
  });
  return { flags, out, config, resolveWith };
}

/**
 * Ctrl-C and SIGTERM (a cron job's timeout, systemd) stop at the next safe
 * point: a write finishes its batch, an undo backup is closed complete. A
 * second one quits at once.
 */
function stopSignals(out: Output): { signal: AbortSignal; abort: () => void; release: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    out.info('Stopping (Ctrl-C again to quit at once)…');
    controller.abort();
  };
  const onSigterm = () => {
    if (controller.signal.aborted) process.exit(143);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    release: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}

/** A long-running command that opens its own connections (the exporter): no target is opened up front. */
export interface ServiceContext {
  out: Output;
  config: RedisOpsConfig;
  signal: AbortSignal;
  /** The command's own connection, resolved from flags, environment and config. */
  spec: ConnectionSpec;
  /** Another connection, resolved the same way (a profile by name, a URL). */
  resolve(flags: ConnectionFlags): Promise<ConnectionSpec>;
}

export async function runService(cmd: Command, body: (ctx: ServiceContext) => Promise<Outcome>): Promise<void> {
  const { flags, out, config, resolveWith } = prepare(cmd);
  const spec = await resolveWith(flags);
  const stop = stopSignals(out);
  try {
    const result = await body({ out, config, signal: stop.signal, spec, resolve: resolveWith });
    setExitCode(cmd, (result instanceof Report ? await result.present(out) : result) ?? ExitCode.ok);
  } finally {
    stop.release();
  }
}

export async function runWithTarget(
  cmd: Command, purpose: string, body: (ctx: RunContext) => Promise<Outcome>, hooks: RunHooks = {},
): Promise<void> {
  const { flags, out, config, resolveWith } = prepare(cmd);
  const spec = await resolveWith(hooks.connection ?? flags);
  hooks.onResolved?.(spec);
  const { openTarget } = await import('../lib/connect/target.js');
  const target = await openTarget(spec, { purpose, onConnect: hooks.onConnect });
  const others: Target[] = [];
  const openOther = async (f: ConnectionFlags) => {
    const t = await openTarget(await resolveWith(f), { purpose });
    others.push(t);
    return t;
  };
  const stop = stopSignals(out);
  if (writesData(cmd, purpose)) stdoutIsProduct(() => stop.abort());
  let tracked: { rails: Rails; noun: string } | null = null;
  const newRails = async (options: RailsOptions, noun: string) => {
    const { Rails } = await import('../lib/rails.js');
    const rails = new Rails(options, stop.signal);
    tracked = { rails, noun };
    return rails;
  };
  try {
    const result = await body({ target, out, config, signal: stop.signal, newRails, openOther });
    const code = result instanceof Report ? await result.present(out) : result;
    if (stdoutWasClosed()) throw outputClosed();
    setExitCode(cmd, code ?? ExitCode.ok);
  } catch (e) {
    const err = e instanceof RedisOpsError ? e
      : stdoutWasClosed() ? outputClosed()
      : target.fail(e);
    throw tracked ? await failedRun(err, tracked, out) : err;
  } finally {
    stop.release();
    for (const t of others) await t.close();
    await target.close();
  }
}

/**
 * A write that failed says how far it got: the count in the error (unless
 * the command said it already) and, with --json, a final object.
 */
async function failedRun(err: Error, { rails, noun }: { rails: Rails; noun: string }, out: Output): Promise<Error> {
  const n = rails.changedCount;
  if (rails.dryRun || (n === 0 && err instanceof UsageError)) return err;
  if (out.json && !stdoutWasClosed()) {
    await out.jsonDocument({ status: 'failed', command: rails.options.command, changed: n, error: err.message.split('\n')[0] }).catch(() => undefined);
  }
  if (isCounted(err)) return err;
  return withDetail(err, n === 0 ? 'nothing was changed' : `${formatCount(n)} ${noun} changed before it stopped`);
}

const counted = new WeakSet<Error>();

/** Marks an error whose message already says how many items were changed. */
export function countedError(err: Error): Error {
  counted.add(err);
  return err;
}

function isCounted(err: Error): boolean {
  return counted.has(err);
}

function outputClosed(): RedisOpsError {
  return new RedisOpsError('output closed: the report is incomplete (the run stopped at a safe point)');
}

/** A command that changes data (it has the rails), or whose stdout is a backup. */
function writesData(cmd: Command, purpose: string): boolean {
  return purpose === 'backup' || cmd.options.some((o) => o.long === '--dry-run');
}
