import type { Command } from 'commander';
import { ExitCode, UsageError, withDetail } from '../errors.js';
import { maxTtlMs, parseDuration, parsePositiveInt } from '../lib/duration.js';
import { keyJson, keyText } from '../lib/keyname.js';
import { matchesEveryKey } from '../lib/rails.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import type { TtlRule } from '../lib/ttl/rules.js';
import { formatBytes, formatCount, formatPercent } from '../output/table.js';
import { addConnectionOptions, addRailsOptions, countedError, dryRunShow, dryRunShowOption, runWithTarget, type RunContext, allDbsOption, report, type Outcome, walkOption } from './context.js';

export function registerTtl(program: Command): void {
  const ttl = program.command('ttl').description('keys without expiry: audit them, and give them a TTL or delete them');

  addConnectionOptions(
    ttl.command('audit [pattern]')
      .description('keys without expiry by key pattern, the TTL spread, and violations of the config file\'s TTL rules')
      .option('--fail-on-violation', 'exit 1 when any key breaks a TTL rule (a CI check)')
      .addOption(allDbsOption())
      .addOption(walkOption.groups(30))
      .addOption(walkOption.separator())
      .addOption(walkOption.depth())
      .addOption(walkOption.count(500)),
  ).action(async (pattern: string | undefined, _f, cmd: Command) => {
    await runWithTarget(cmd, 'ttl-audit', (ctx) => audit(ctx, pattern, cmd.opts()));
  });

  addRailsOptions(
    addConnectionOptions(
      ttl.command('cleanup <pattern>')
        .description('give matching keys a TTL, or delete them; every write re-checks its condition atomically')
        .option('--set-ttl <dur>', 'give keys this expiry (by default only keys without one)')
        .option('--delete', 'delete the keys (UNLINK)')
        .option('--no-ttl', 'only keys without an expiry')
        .option('--idle-over <dur>', 'only keys idle for longer than DUR (OBJECT IDLETIME)')
        .option('--ttl-above <dur>', 'only keys whose TTL is longer than DUR')
        .option('--age-field <field>', 'a timestamp inside the value: a JSON string\'s field or a hash field')
        .option('--older-than <dur>', 'with --age-field: only keys whose timestamp is older than DUR')
        .option('--rules', 'only keys that break the config file\'s TTL rules; each gets its rule\'s maximum TTL (or --delete)')
        .option('--backup <file>', 'first write every key about to change to this backup file (restore undoes the run); kept, complete, when the run fails')
        .option('--force', 'replace an existing --backup file')
        .option('--single-flight [name]', 'refuse to run while another run of this job holds its lock in Redis')
        .option('--prom-file <path>', 'write the summary as Prometheus text (atomically) for node_exporter')
        .addOption(allDbsOption())
        .addOption(walkOption.count(500)),
    ),
    [...railsOptions(), dryRunShowOption()],
  ).action(async (pattern: string, _f, cmd: Command) => {
    await runWithTarget(cmd, 'ttl-cleanup', (ctx) => cleanup(ctx, pattern, cmd.opts(), dryRunShow(cmd.opts())));
  });
}

function rulesFrom(ctx: RunContext): TtlRule[] {
  return ctx.config.sections.ttlRules ?? [];
}

async function audit(ctx: RunContext, pattern: string | undefined, f: { failOnViolation?: boolean; allDbs?: boolean; groups: string; separator: string; depth: string; count: string }): Promise<Outcome> {
  const { target, out, signal } = ctx;
  const { auditTtl, usesLfu } = await import('../lib/ttl/audit.js');
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  const dbs = await databasesToWalk(target, Boolean(f.allDbs), (m) => out.warn(m), { mentionOthers: true });
  const rules = rulesFrom(ctx);
  if (f.failOnViolation && rules.length === 0) out.warn('warning: --fail-on-violation without ttlRules in the config file: nothing can violate');
  const progress = await out.progress('auditing…');
  let a;
  try {
    a = await auditTtl(target, {
      match: pattern, dbs, rules, signal,
      count: parsePositiveInt(f.count, '--count'), groups: parsePositiveInt(f.groups, '--groups'),
      separator: f.separator, depth: parsePositiveInt(f.depth, '--depth'),
      readIdle: !(await usesLfu(target)),
      onNoBytes: (node) => out.warn(`warning: ${node}: MEMORY USAGE is not allowed for this user; the audit goes on without bytes ("bytesMeasured": false)`),
      onProgress: (n) => { if (progress.active) progress.update(`scanned ${formatCount(n)} keys`); },
    });
  } finally {
    progress.stop();
  }
  const violated = Boolean(f.failOnViolation && a.violations > 0);
  if (violated) out.info(`${a.violations} key(s) break the TTL rules`);
  return report(a, async (out) => {
    const { loadTables, renderTable } = await import('../output/table.js');
    const { formatDuration } = await import('../lib/duration.js');
    await loadTables();
    const multi = dbs.length > 1;
    const bytes = (n: number) => (a.bytesMeasured ? formatBytes(n) : '-');
    const parts = [
      `${out.c.bold('Without expiry')}: ${formatCount(a.noTtl.count)} of ${formatCount(a.scanned)} keys (${formatPercent(a.scanned ? a.noTtl.count / a.scanned : 0)}), ${bytes(a.noTtl.bytes)}`,
      renderTable(out, {
        head: [...(multi ? ['db'] : []), 'pattern', 'keys', 'no TTL', 'no-TTL memory', 'longest idle', '< 1h', '1h–24h', '1d–7d', '> 7d'], right: multi ? [2, 3, 4, 5, 6, 7, 8, 9] : [1, 2, 3, 4, 5, 6, 7, 8],
        rows: a.patterns.map((p) => [
          ...(multi ? [p.db < 0 ? '*' : `db${p.db}`] : []), p.pattern, formatCount(p.count), formatCount(p.noTtl.count), bytes(p.noTtl.bytes),
          p.noTtl.maxIdleSec === null ? '-' : p.noTtl.count ? formatDuration(p.noTtl.maxIdleSec * 1000) : '-',
          formatCount(p.ttl.under1h), formatCount(p.ttl.h1to24), formatCount(p.ttl.d1to7), formatCount(p.ttl.over7d),
        ]),
      }),
    ];
    if (a.rules.length) {
      parts.push(renderTable(out, {
        title: 'TTL rules', head: ['rule', 'max TTL', 'keys', 'violations', 'for example'], right: [2, 3],
        rows: a.rules.map((r) => [r.pattern, formatDuration(r.maxTtlMs), formatCount(r.checked), r.violations ? out.c.red(formatCount(r.violations)) : '0',
          r.sample.map((s) => ('key' in s ? s.key : s.key64)).join(' ')]),
      }));
    }
    await out.write(`${parts.join('\n\n')}\n`);
  }, violated ? ExitCode.failure : a.complete ? ExitCode.ok : ExitCode.partial);
}

interface CleanupFlags extends RailsFlags {
  setTtl?: string;
  delete?: boolean;
  ttl?: boolean;
  idleOver?: string;
  ttlAbove?: string;
  ageField?: string;
  olderThan?: string;
  rules?: boolean;
  backup?: string;
  force?: boolean;
  singleFlight?: string | boolean;
  promFile?: string;
  allDbs?: boolean;
  count: string;
}

async function cleanup(ctx: RunContext, pattern: string, f: CleanupFlags, show: number): Promise<Outcome> {
  const { target, out, signal } = ctx;
  if (f.setTtl !== undefined && f.delete) throw new UsageError('choose one action: --set-ttl DUR or --delete');
  if (f.setTtl === undefined && !f.delete && !f.rules) throw new UsageError('an action is needed: --set-ttl DUR, --delete, or --rules');
  if ((f.ageField === undefined) !== (f.olderThan === undefined)) throw new UsageError('--age-field and --older-than go together');
  const rules = f.rules ? rulesFrom(ctx) : undefined;
  if (f.rules && !rules!.length) throw new UsageError('--rules: the config file has no ttlRules');
  const ttlAboveMs = f.ttlAbove !== undefined ? parseDuration(f.ttlAbove, '--ttl-above') : undefined;
  // --set-ttl gives keys an expiry: by default only to keys that have none.
  const noTtl = f.ttl === false || (f.setTtl !== undefined && ttlAboveMs === undefined);
  const action = f.delete ? { kind: 'unlink' as const } : f.setTtl !== undefined ? { kind: 'expire' as const, ttlMs: parseDuration(f.setTtl, '--set-ttl', { maxMs: maxTtlMs(), why: 'longer than an expiry can be' }) } : { kind: 'rules' as const };
  if (action.kind === 'expire' && action.ttlMs <= 0) throw new UsageError('--set-ttl must be longer than 0');
  const options = {
    match: pattern, count: parsePositiveInt(f.count, '--count'), action, noTtl, ttlAboveMs, rules, signal,
    idleOverSec: f.idleOver !== undefined ? parseDuration(f.idleOver, '--idle-over') / 1000 : undefined,
    age: f.ageField !== undefined ? { field: f.ageField, olderThanMs: parseDuration(f.olderThan!, '--older-than') } : undefined,
  };
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  const { cleanupTtl } = await import('../lib/ttl/cleanup.js');
  const rails = await ctx.newRails(railsFrom('ttl cleanup', f), 'keys');
  const dbs = await databasesToWalk(target, Boolean(f.allDbs), (m) => out.warn(m));
  if (options.idleOverSec !== undefined) {
    const { usesLfu } = await import('../lib/ttl/audit.js');
    if (await usesLfu(target)) throw new UsageError(`${target.address} uses an LFU maxmemory-policy, which does not track idle time: --idle-over is not possible there`);
  }
  const what = action.kind === 'unlink' ? 'UNLINK' : action.kind === 'expire' ? `set a ${f.setTtl} TTL on` : 'set each rule\'s maximum TTL on';
  await rails.confirm({
    description: `${what} the keys matching ${pattern} that pass the selectors`, sample: [], target: `${target.address} db ${dbs.join(',')}`,
    everyKeyOf: matchesEveryKey(pattern) ? `${target.address}/${dbs.join(',')}` : undefined,
  }, out);

  let flight: { release(): Promise<void> } | null = null;
  if (f.singleFlight !== undefined && !rails.dryRun) {
    const { acquireSingleFlight } = await import('../lib/singleFlight.js');
    flight = await acquireSingleFlight(target, typeof f.singleFlight === 'string' ? f.singleFlight : `ttl-cleanup:${pattern}`);
  }
  let sink: import('../lib/backup/writer.js').BackupSink | null = null;
  let summary;
  const { DryRunList } = await import('../output/preview.js');
  const preview = new DryRunList(out, show);
  const progress = await out.progress(rails.dryRun ? 'planning (dry run)…' : 'cleaning up…');
  const { ProgressMeter } = await import('../output/progressText.js');
  const { keysIn } = await import('../lib/connect/dbs.js');
  const meter = new ProgressMeter(progress.active ? await keysIn(target, dbs) : null);
  try {
    let kb = null;
    if (f.backup && !rails.dryRun) {
      const { BackupSink, KeyBackup, backupHeader } = await import('../lib/backup/writer.js');
      const { outputPlace } = await import('../lib/outputPath.js');
      sink = new BackupSink(outputPlace(f.backup, '--backup', { replace: Boolean(f.force) }), f.backup.endsWith('.gz'));
      await sink.open();
      await sink.header(backupHeader(target, dbs, [pattern], []));
      kb = new KeyBackup(target, sink);
    }
    await rails.openLog();
    summary = await cleanupTtl(target, {
      ...options, dbs,
      onChange: rails.dryRun ? async (db, node, key, act, reason) => { await preview.add(`${keyText(key)}  ${act}  (${reason})`, { ...keyJson(key), db, node, action: act, reason }); } : undefined,
      onProgress: (n, c) => { if (progress.active) progress.update(meter.text(n, `${rails.dryRun ? 'would change' : 'changed'} ${formatCount(c)}`)); },
    }, rails, kb);
    if (sink) await sink.finish();
    await preview.finish();
  } catch (e) {
    progress.stop();
    throw countedError(await keepUndo(target.fail(e), sink, rails.changedCount));
  } finally {
    progress.stop();
    await rails.close();
    await flight?.release();
  }
  if (f.promFile) {
    const { writeFileAtomic } = await import('../lib/atomicFile.js');
    const { renderCleanupPrometheus } = await import('../output/render/ttl.js');
    writeFileAtomic(f.promFile, renderCleanupPrometheus(pattern, summary, Math.floor(Date.now() / 1000)));
  }
  // A dry run's listing is its product (NDJSON on stdout with --json): the summary goes to stderr.
  return report(summary, async (out) => {
    const skipped = Object.entries(summary.skipped).filter(([, n]) => n).map(([why, n]) => `${n} ${why}`).join(', ');
    const line = `${summary.dryRun ? 'dry run: would change' : 'changed'} ${formatCount(summary.dryRun ? summary.matched : summary.changed)} of ${formatCount(summary.matched)} matching keys (${formatCount(summary.scanned)} scanned) in ${(summary.durationMs / 1000).toFixed(1)} s${skipped ? `; skipped: ${skipped}` : ''}${summary.stoppedBy ? `; stopped early (${summary.stoppedBy})` : ''}`;
    await out.write(`${line}\n`);
  }, summary.stoppedBy ? ExitCode.partial : ExitCode.ok, { json: rails.dryRun ? 'stderr' : 'stdout' });
}

/**
 * A run that fails keeps its undo backup: every key it changed was written
 * there (and synced) before the change, so the file is closed as a complete,
 * restorable backup and the error says where it is and how far the run got.
 */
async function keepUndo(err: Error, sink: import('../lib/backup/writer.js').BackupSink | null, changed: number): Promise<Error> {
  const done = `${formatCount(changed)} keys changed`;
  if (!sink) return changed ? withDetail(err, done) : err;
  try {
    await sink.finish();
  } catch {
    return withDetail(err, `${done}; the undo backup could not be closed: what it holds is in ${sink.destination}.partial-${process.pid}`);
  }
  return withDetail(err, `${done}; their previous values are in ${sink.destination}: redis-ops restore ${sink.destination} --replace`);
}
