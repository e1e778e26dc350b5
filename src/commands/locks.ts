import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { parseDuration } from '../lib/duration.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import { dataText, keyText } from '../lib/keyname.js';
import { formatCount } from '../output/table.js';
import { addConnectionOptions, addRailsOptions, dryRunShow, dryRunShowOption, runWithTarget, type RunContext, allDbsOption, report, type Outcome } from './context.js';

interface LockFlags {
  staleAfter?: string;
  maxTtl?: string;
  values?: boolean;
  allDbs?: boolean;
}

export function registerLocks(program: Command): void {
  const locks = program.command('locks').description('find and reap stale distributed locks');
  const common = (c: Command) => c
    .option('--stale-after <dur>', 'a lock without expiry idle this long is stale (default 10m, or the config file\'s)')
    .option('--max-ttl <dur>', 'a lock whose TTL is longer than this is stale too')
    .option('--values', 'read holder tokens even where that refreshes idle times (Redis < 7.2)')
    .addOption(allDbsOption());

  addConnectionOptions(common(locks.command('list [patterns...]').description('locks with holder, TTL, idle time and whether they are stale')))
    .action(async (patterns: string[], _f, cmd: Command) => {
      await runWithTarget(cmd, 'locks-list', (ctx) => list(ctx, patterns, cmd.opts()));
    });

  addRailsOptions(
    addConnectionOptions(common(locks.command('reap [patterns...]').description('delete stale locks by compare-and-delete, through the safety rails'))
      .option('--key <key>', 'one named lock (the TLS client key is --tls-key here)')
      .option('--force', 'with --key: reap it whether stale or not (after confirmation)'), { tlsKey: '--tls-key' }),
    [...railsOptions(), dryRunShowOption()],
  ).action(async (patterns: string[], _f, cmd: Command) => {
    await runWithTarget(cmd, 'locks-reap', (ctx) => reap(ctx, patterns, cmd.opts()));
  });
}

async function lockOptions(ctx: RunContext, patterns: string[], f: LockFlags, reading: boolean) {
  const cfg = ctx.config.sections.locks ?? {};
  const { COMMON_LOCK_PATTERNS, MIN_STALE_AFTER_MS } = await import('../lib/locks/locks.js');
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  const { keepIdleTimes } = await import('../lib/connect/target.js');
  const noTouch = await keepIdleTimes(ctx.target);
  const staleAfterMs = f.staleAfter !== undefined ? parseDuration(f.staleAfter, '--stale-after') : cfg.staleAfterMs ?? 600_000;
  if (staleAfterMs < MIN_STALE_AFTER_MS) {
    throw new UsageError(`${f.staleAfter !== undefined ? '--stale-after' : 'locks.staleAfter in the config file'} must be at least 2s: OBJECT IDLETIME counts whole seconds, so a shorter threshold would reap locks that are being renewed`);
  }
  return {
    patterns: patterns.length ? patterns : cfg.patterns ?? COMMON_LOCK_PATTERNS,
    dbs: await databasesToWalk(ctx.target, Boolean(f.allDbs), (m) => ctx.out.warn(m)),
    staleAfterMs,
    maxTtlMs: f.maxTtl !== undefined ? parseDuration(f.maxTtl, '--max-ttl') : cfg.maxTtlMs,
    // Before 7.2, a GET refreshes the idle time that staleness is judged by:
    // reading tokens would make every later look see fresh locks.
    readValues: reading && (noTouch || Boolean(f.values)),
    signal: ctx.signal,
  };
}

async function list(ctx: RunContext, patterns: string[], f: LockFlags): Promise<Outcome> {
  const { listLocks } = await import('../lib/locks/locks.js');
  const opts = await lockOptions(ctx, patterns, f, true);
  const found = (await listLocks(ctx.target, opts)).map(({ raw: _raw, ...l }) => l);
  return report({ patterns: opts.patterns, locks: found }, async (out) => {
    if (found.length === 0) {
      out.info(`no locks match ${opts.patterns.join(' ')}`);
      return;
    }
    const { loadTables, renderTable } = await import('../output/table.js');
    const { formatDuration } = await import('../lib/duration.js');
    await loadTables();
    await out.write(`${renderTable(out, {
      head: ['key', 'holder', 'ttl', 'idle', 'stale', 'why'], right: [2, 3],
      rows: found.map((l) => [
        keyText(Buffer.from(l.key ?? l.key64 ?? '', l.key !== undefined ? 'utf8' : 'base64')),
        l.value ? ('value' in l.value ? dataText(l.value.value) : `(base64) ${l.value.value64}`) : out.c.dim('not read'),
        l.ttlMs === null ? 'none' : formatDuration(l.ttlMs), l.idleSec === null ? '-' : formatDuration(l.idleSec * 1000),
        l.stale ? out.c.red('STALE') : l.system ? l.system : 'no', l.reason,
      ]),
    })}\n`);
    if (!opts.readValues) out.info('Holder tokens not read: reading them refreshes idle times before Redis 7.2 (--values to read anyway).');
  });
}

async function reap(ctx: RunContext, patterns: string[], f: LockFlags & RailsFlags & { key?: string; force?: boolean; show?: string }): Promise<Outcome> {
  const { target, out } = ctx;
  if (f.force && !f.key) throw new UsageError('--force needs --key KEY: it reaps one named lock');
  const { listLocks, reapLocks } = await import('../lib/locks/locks.js');
  const rails = await ctx.newRails(railsFrom('locks reap', f), 'locks');
  const { globToRegExp } = await import('../lib/glob.js');
  // The plan reads tokens only where that does not refresh idle times (7.2+)
  // or for one named lock; otherwise the reap script checks the idle time itself.
  const opts = await lockOptions(ctx, f.key ? [f.key.replace(/[*?[\]\\]/g, '\\$&')] : patterns, f, Boolean(f.key));
  let plan = await listLocks(target, opts);
  if (f.key) {
    plan = plan.filter((l) => globToRegExp(f.key!.replace(/[*?[\]\\]/g, '\\$&')).test(l.raw.toString('latin1')));
    if (!plan.length) throw new UsageError(`no such key: ${dataText(f.key)}`);
    if (plan[0]!.system && f.force) throw new UsageError(`${dataText(f.key)} is ${plan[0]!.system}'s lock: ${plan[0]!.system} manages it; it is not reaped by redis-ops`);
    if (!f.force && !plan[0]!.stale) {
      out.info(`${dataText(f.key)} is not stale (${plan[0]!.reason}); --force to reap it anyway`);
      return ExitCode.ok;
    }
  } else plan = plan.filter((l) => l.stale);
  if (plan.length === 0) {
    return report({ dryRun: rails.dryRun, considered: 0, reaped: 0, skipped: {}, locks: [] }, (o) => o.info('no stale locks'));
  }
  await rails.confirm({
    description: `delete ${formatCount(plan.length)} stale lock(s) (compare-and-delete)`,
    sample: plan.slice(0, 5).map((l) => `${shownKey(l)} (${l.reason})`), target: `${target.address}`,
  }, out);
  let result;
  try {
    result = await reapLocks(target, plan, rails, { staleAfterMs: opts.staleAfterMs, maxTtlMs: opts.maxTtlMs, force: Boolean(f.force) });
  } finally {
    await rails.close();
  }
  return report(result, async (out) => {
    // A dry run lists at most --show locks, each with why it is stale.
    const reasons = new Map(plan.map((l) => [l.raw.toString('latin1'), l.reason]));
    const { writeFirst } = await import('../output/preview.js');
    await writeFirst(out, result.locks.map((l) => {
      const why = result.dryRun ? reasons.get(Buffer.from(l.key ?? l.key64 ?? '', l.key !== undefined ? 'utf8' : 'base64').toString('latin1')) : undefined;
      return `${shownKey(l)}: ${l.result}${why ? `  (${dataText(why)})` : ''}`;
    }), result.dryRun ? dryRunShow(f) : result.locks.length);
    out.info(`${result.dryRun ? 'would reap' : 'reaped'} ${result.dryRun ? result.locks.length : result.reaped} of ${result.considered} stale lock(s)`);
  }, rails.stopReason ? ExitCode.partial : ExitCode.ok);
}

/** A lock's name for a terminal: escaped text, or base64 for a name that is not UTF-8. */
function shownKey(l: { key?: string; key64?: string }): string {
  return l.key !== undefined ? keyText(Buffer.from(l.key, 'utf8')) : `(base64) ${l.key64}`;
}
