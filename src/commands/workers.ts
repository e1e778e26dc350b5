import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { parseDuration } from '../lib/duration.js';
import { dataText } from '../lib/keyname.js';
import { DEFAULT_HEARTBEATS } from '../lib/queues/config.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import type { WorkersReport } from '../lib/workers/workers.js';
import { addConnectionOptions, addRailsOptions, dryRunShow, dryRunShowOption, runWithTarget, type RunContext, allDbsOption, report, type Outcome } from './context.js';
import { findOptions } from './queue.js';

interface WorkerFlags {
  staleAfter?: string;
  allDbs?: boolean;
  discover?: boolean;
}

const common = (c: Command) => c
  .option('--stale-after <dur>', 'a home-grown worker whose last heartbeat is older is dead (default 60s, or the config file\'s)')
  .addOption(allDbsOption())
  .option('--discover', 'walk the keyspace for queues even when the config file declares some');

export function registerWorkers(program: Command): void {
  const workers = program.command('workers').description('workers of every queue system, alive or dead, and the in-flight jobs no live worker holds');
  addConnectionOptions(common(workers.command('list', { isDefault: true }).description('every worker and the orphaned in-flight jobs (the default)'))
    .option('--fail-on-dead', 'exit 1 when a worker is dead or a job is orphaned (for CI and cron)'))
    .action(async (_f, cmd: Command) => {
      await runWithTarget(cmd, 'workers', (ctx) => list(ctx, cmd.opts()));
    });
  addRailsOptions(addConnectionOptions(common(workers.command('reap').description('forget dead workers\' heartbeat records; with --requeue-orphans put their in-flight jobs back, atomically'))
    .option('--requeue-orphans', 'put orphaned jobs back at the front of their queue')
    .option('--include-unclaimed', 'with --requeue-orphans: also jobs no worker claims (a shared processing list)')), [...railsOptions(), dryRunShowOption()])
    .action(async (_f, cmd: Command) => {
      await runWithTarget(cmd, 'workers-reap', (ctx) => reap(ctx, cmd.opts()));
    });
}

async function collect(ctx: RunContext, f: WorkerFlags) {
  const cfg = ctx.config.sections.workers;
  const staleAfterMs = f.staleAfter !== undefined ? parseDuration(f.staleAfter, '--stale-after') : cfg?.staleAfterMs ?? 60_000;
  const { findQueues } = await import('../lib/queues/find.js');
  const { collectWorkers } = await import('../lib/workers/workers.js');
  const progress = await ctx.out.progress('looking for workers…');
  try {
    return await findQueues(ctx.target, await findOptions(ctx, f), async (t, refs, db) => ({
      t, refs, db, report: await collectWorkers(t, db, refs, { staleAfterMs, heartbeats: cfg?.heartbeats ?? DEFAULT_HEARTBEATS, signal: ctx.signal }),
    }));
  } finally {
    progress.stop();
  }
}

function publicReport(reports: WorkersReport[]) {
  return {
    workers: reports.flatMap((r) => r.workers.map(({ beat: _b, ...w }) => w)),
    orphans: reports.flatMap((r) => r.orphans.map(({ stored: _s, ...o }) => o)),
    notes: reports.flatMap((r) => r.notes),
  };
}

async function list(ctx: RunContext, f: WorkerFlags & { failOnDead?: boolean }): Promise<Outcome> {
  const perDb = await collect(ctx, f);
  const doc = publicReport(perDb.map((x) => x.report));
  const bad = doc.workers.some((w) => !w.alive) || doc.orphans.length > 0;
  return report(doc, async (out) => {
    const { loadTables, renderTable } = await import('../output/table.js');
    const { formatDuration } = await import('../lib/duration.js');
    await loadTables();
    if (!doc.workers.length) out.info('no workers found (heartbeat patterns: README "workers")');
    else {
      await out.write(`${renderTable(out, {
        head: ['worker', 'system', 'alive', 'last seen', 'age', 'current job'], right: [4],
        rows: doc.workers.map((w) => [w.id, w.system, w.alive ? out.c.green('yes') : out.c.red('DEAD'), w.lastSeen ?? '-', w.ageSec === null ? '-' : formatDuration(w.ageSec * 1000), w.currentJob ?? '-']),
      })}\n`);
    }
    if (doc.orphans.length) {
      await out.write(`\nOrphaned in-flight jobs:\n${renderTable(out, {
        head: ['queue', 'system', 'job', 'held in', 'worker', 'requeue', 'why'],
        rows: doc.orphans.map((o) => [o.queue, o.system, o.job ?? '-', o.key, o.worker ?? '-', o.requeueable ? 'yes' : 'no', o.reason]),
      })}\n`);
    }
    for (const n of doc.notes) out.warn(n);
  }, f.failOnDead && bad ? ExitCode.failure : ExitCode.ok);
}

async function reap(ctx: RunContext, f: WorkerFlags & RailsFlags & { requeueOrphans?: boolean; includeUnclaimed?: boolean; show?: string }): Promise<Outcome> {
  const { reapWorkers } = await import('../lib/workers/workers.js');
  const { out, target } = ctx;
  const rails = await ctx.newRails(railsFrom('workers reap', f), 'records');
  const perDb = await collect(ctx, f);
  const dead = perDb.flatMap((x) => x.report.workers.filter((w) => !w.alive));
  const orphans = perDb.flatMap((x) => x.report.orphans.filter((o) => o.requeueable));
  const totals = { dryRun: rails.dryRun, deadWorkers: dead.length, requeued: 0, forgotten: 0, skipped: {} as Record<string, number>, stopped: null as string | null };
  if (!dead.length && !(f.requeueOrphans && orphans.length)) {
    return report(totals, (o) => o.info('no dead workers'));
  }
  await rails.confirm({
    description: `forget ${dead.length} dead worker record(s)${f.requeueOrphans ? ` and requeue up to ${orphans.length} orphaned job(s)` : ''}`,
    sample: dead.slice(0, 5).map((w) => `${w.system} ${w.id} (last seen ${w.lastSeen ?? 'never'})`), target: target.address,
  }, out);
  // A dry run says what would change, and why: each dead worker's record, each orphaned job (with --requeue-orphans).
  const { formatDuration } = await import('../lib/duration.js');
  const items = !rails.dryRun ? [] : [
    ...dead.map((w) => ({ action: 'forget', system: w.system, worker: w.id, key: w.key, reason: `no heartbeat for ${w.ageSec === null ? 'ever' : formatDuration(w.ageSec * 1000)} (last seen ${w.lastSeen ?? 'never'})` })),
    ...(f.requeueOrphans ? orphans.map((o) => ({ action: 'requeue', system: o.system, job: o.job, key: o.key, reason: o.reason })) : []),
  ];
  if (rails.dryRun) Object.assign(totals, { items });
  try {
    for (const { t, report: found } of perDb) {
      const r = await reapWorkers(t, found, rails, { requeueOrphans: Boolean(f.requeueOrphans), includeUnclaimed: Boolean(f.includeUnclaimed) });
      totals.requeued += r.requeued;
      totals.forgotten += r.forgotten;
      for (const [k, v] of Object.entries(r.skipped)) totals.skipped[k] = (totals.skipped[k] ?? 0) + v;
      if (r.stopped) { totals.stopped = r.stopped; break; }
    }
  } finally {
    await rails.close();
  }
  return report(totals, async (out) => {
    const { writeFirst } = await import('../output/preview.js');
    await writeFirst(out, items.map((it) => `${it.action}  ${it.system} ${dataText(String('worker' in it ? it.worker : it.job ?? '?'))}  (${dataText(it.reason)})`), dryRunShow(f));
    const skipped = Object.entries(totals.skipped).map(([k, v]) => `${v} ${k}`).join(', ');
    out.info(`${totals.dryRun ? 'dry run: would ' : ''}forget ${totals.forgotten} worker record(s)${f.requeueOrphans ? `, requeue ${totals.requeued} job(s)` : ''}${skipped ? `; skipped: ${skipped}` : ''}${totals.stopped ? ` (stopped: ${totals.stopped})` : ''}`);
  }, totals.stopped ? ExitCode.partial : ExitCode.ok);
}
