import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../lib/duration.js';
import { dataText } from '../lib/keyname.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import type { FindOptions } from '../lib/queues/find.js';
import type { QueueInfo } from '../lib/queues/model.js';
import { addConnectionOptions, addRailsOptions, addShowOption, dryRunShow, dryRunShowOption, type RunContext, runWithTarget, showCount, allDbsOption, report, type Report, type Outcome } from './context.js';
import type { Output } from '../output/output.js';

interface FindFlags {
  allDbs?: boolean;
  discover?: boolean;
}

const findFlags = (c: Command) => c
  .addOption(allDbsOption())
  .option('--discover', 'walk the keyspace for queues even when the config file declares some');

export async function findOptions(ctx: RunContext, f: FindFlags, names: string[] = []): Promise<FindOptions> {
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  return {
    dbs: await databasesToWalk(ctx.target, Boolean(f.allDbs), (m) => ctx.out.warn(m)),
    declared: ctx.config.sections.queues ?? [],
    discover: Boolean(f.discover),
    names,
    signal: ctx.signal,
  };
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('job queues of every kind: counts, peek, enqueue, retries and dead letters');

  for (const [name, description] of [
    ['list', 'every queue found (or declared), with its counts'],
    ['stats [names...]', 'waiting, active, delayed, retry, dead and completed jobs per queue, and the oldest waiting job\'s age'],
  ] as const) {
    addConnectionOptions(findFlags(queue.command(name).description(description))
      .option('--watch <dur>', 'sample again every DUR until Ctrl-C, with rates from successive samples')
      .option('--prom-file <path>', 'also write the figures as Prometheus gauges to PATH (atomically), for node_exporter'))
      .action(async (...args: unknown[]) => {
        const cmd = args[args.length - 1] as Command;
        const names = Array.isArray(args[0]) ? (args[0] as string[]) : [];
        await runWithTarget(cmd, 'queue-stats', (ctx) => stats(ctx, names, cmd.opts()));
      });
  }

  addConnectionOptions(addShowOption(findFlags(queue.command('peek <name>').description('the next jobs a worker would take, pretty-printed; removes nothing')), 'jobs', 10), { dbShort: false })
    .action(async (name: string, _f, cmd: Command) => {
      await runWithTarget(cmd, 'queue-peek', (ctx) => peek(ctx, name, cmd.opts(), showCount(cmd, 10, (m) => ctx.out.warn(m))));
    });

  addRailsOptions(addConnectionOptions(findFlags(queue.command('enqueue <name> [json]').description('add jobs to a home-grown or Sidekiq queue: JSON from the argument, --file, or NDJSON on stdin'))
    .option('--file <path>', 'NDJSON jobs, one per line (- for stdin)')
    .option('--priority <n>', 'home-grown: add to the priority ZSET with this score')
    .option('--class <name>', 'Sidekiq: the job class, when the job has none')
    .option('--new', 'the queue does not exist yet: create a home-grown LIST named NAME')), railsOptions())
    .action(async (name: string, json: string | undefined, _f, cmd: Command) => {
      await runWithTarget(cmd, 'queue-enqueue', (ctx) => enqueue(ctx, name, json, cmd.opts()));
    });

  addRailsOptions(addConnectionOptions(findFlags(queue.command('retry-drain <name>').description('move due retries back to their queue, atomically, one job at a time'))
    .option('--all', 'every job in the retry queue, due or not')
    .option('--max-retries <n>', 'jobs retried this many times or more go to the dead-letter queue instead')), [...railsOptions(), dryRunShowOption()])
    .action(async (name: string, _f, cmd: Command) => {
      await runWithTarget(cmd, 'queue-retry-drain', (ctx) => retryDrain(ctx, name, cmd.opts()));
    });

  addRailsOptions(addConnectionOptions(addShowOption(findFlags(queue.command('dead <name> <action>').description('dead letters: list, requeue (retry counter reset) or purge')), 'list: jobs', 20), { dbShort: false }), railsOptions())
    .action(async (name: string, action: string, _f, cmd: Command) => {
      if (!['list', 'requeue', 'purge'].includes(action)) throw new UsageError(`queue dead: unknown action "${action}" (list, requeue, purge)`);
      await runWithTarget(cmd, `queue-dead-${action}`, (ctx) => dead(ctx, name, action, cmd.opts(), action === 'list' ? showCount(cmd, 20, (m) => ctx.out.warn(m)) : 20));
    });
}

async function pick(ctx: RunContext, name: string, f: FindFlags) {
  const { oneQueue } = await import('../lib/queues/find.js');
  return oneQueue(ctx.target, name, await findOptions(ctx, f));
}

async function peek(ctx: RunContext, name: string, f: FindFlags, n: number): Promise<Outcome> {
  const { peekJobs } = await import('../lib/queues/peek.js');
  const q = await pick(ctx, name, f);
  try {
    return jobsReport(q.ref, await peekJobs(q.t, q.ref, n), null);
  } finally {
    await q.close();
  }
}

function jobsReport(ref: { name: string; system: string; db: number }, jobs: import('../lib/queues/peek.js').PeekedJob[], total: number | null): Report {
  return report({ queue: ref.name, system: ref.system, db: ref.db, ...(total !== null ? { total } : {}), jobs }, (out) => writeJobs(out, ref, jobs, total));
}

async function writeJobs(out: Output, ref: { name: string }, jobs: import('../lib/queues/peek.js').PeekedJob[], total: number | null): Promise<void> {
  if (!jobs.length) {
    out.info(`${ref.name}: no jobs`);
    return;
  }
  const lines: string[] = [];
  jobs.forEach((j, i) => {
    lines.push(out.c.bold(`#${i + 1}`) + ` ${j.id ? `id ${dataText(String(j.id))} ` : ''}${out.c.dim(`(${dataText(j.from)})`)}`);
    if (j.info) for (const [k, v] of Object.entries(j.info)) if (v !== null && v !== undefined) lines.push(`  ${out.c.dim(dataText(k))}: ${typeof v === 'string' ? dataText(v) : JSON.stringify(v)}`);
    // JSON escapes control characters itself; a job that is not JSON is data text.
    const body = j.job !== undefined ? JSON.stringify(j.job, null, 2) : j.text !== undefined ? dataText(j.text) : j.base64 !== undefined ? `(binary, base64) ${j.base64}` : '';
    if (body) lines.push(body.split('\n').map((l) => `  ${l}`).join('\n'));
  });
  if (total !== null) lines.push(out.c.dim(`${jobs.length} of ${total} shown`));
  await out.write(`${lines.join('\n')}\n`);
}

async function enqueue(ctx: RunContext, name: string, json: string | undefined, f: FindFlags & RailsFlags & { file?: string; priority?: string; class?: string; new?: boolean }): Promise<Outcome> {
  const { parseJobs, enqueueJobs } = await import('../lib/queues/enqueue.js');
  const { out, target } = ctx;
  if ((json !== undefined) === (f.file !== undefined) && !(json === undefined && f.file === undefined && !process.stdin.isTTY)) {
    throw new UsageError('queue enqueue: give the job as an argument, or --file PATH, or NDJSON on stdin (not more than one)');
  }
  let jobs: string[];
  if (json !== undefined) jobs = parseJobs(json, 'the job argument');
  else {
    const { readFileSync } = await import('node:fs');
    const path = f.file === undefined || f.file === '-' ? 0 : f.file;
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new UsageError(`--file: cannot read ${f.file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    jobs = parseJobs(bytes, path === 0 ? 'stdin' : String(f.file));
  }
  const priority = f.priority !== undefined ? Number(f.priority) : undefined;
  if (priority !== undefined && !Number.isFinite(priority)) throw new UsageError(`--priority must be a number, not "${f.priority}"`);
  const rails = await ctx.newRails(railsFrom('queue enqueue', f), 'jobs');
  let q;
  try {
    q = await pick(ctx, name, f);
  } catch (e) {
    if (!f.new || !(e instanceof UsageError) || !/^no such queue/.test(e.message)) throw e;
    const { isDiscoverableMain, newHomegrownQueue } = await import('../lib/queues/systems/homegrown.js');
    if (!isDiscoverableMain(name)) {
      throw new UsageError(`queue enqueue --new: the queue commands would not find "${dataText(name)}" again: a home-grown queue's name ends in queue, jobs or tasks after : _ . or - (email_jobs, jobs:queue, reports.tasks), without spaces or * ? [ ]; or declare it in the config file (queues)`);
    }
    q = { t: target, close: async () => {}, ref: newHomegrownQueue(name, target.db) };
  }
  try {
    await rails.confirm({ description: `enqueue ${jobs.length} job(s) on ${q.ref.system} queue ${q.ref.name}`, sample: jobs.slice(0, 3), target: `${target.address} db ${q.ref.db}` }, out);
    const result = await enqueueJobs(q.t, q.ref, jobs, rails, { priority, className: f.class });
    return report(result, (o) => o.info(`${result.dryRun ? 'would enqueue' : 'enqueued'} ${result.enqueued} job(s) on ${result.key}${result.stopped ? ` (stopped: ${result.stopped})` : ''}`),
      result.stopped ? ExitCode.partial : ExitCode.ok);
  } finally {
    await rails.close();
    await q.close();
  }
}

async function runDrain(ctx: RunContext, name: string, f: FindFlags & RailsFlags & { show?: string }, command: string, plan: (ref: import('../lib/queues/model.js').QueueRef) => import('../lib/queues/drain.js').DrainPlan): Promise<Outcome> {
  const show = dryRunShow(f);
  const { drain } = await import('../lib/queues/drain.js');
  const { out, target } = ctx;
  const rails = await ctx.newRails(railsFrom(command, f), 'jobs');
  const q = await pick(ctx, name, f);
  try {
    const p = plan(q.ref);
    const { sizeOf } = await import('../lib/queues/jobs.js');
    const there = await sizeOf(q.t, p.source.key);
    await rails.confirm({ description: `${p.describe} (${there} job(s) in ${p.source.key} now)`, sample: [], target: `${target.address} db ${q.ref.db}` }, out);
    const progress = await out.progress(`${command}…`);
    let result;
    try {
      result = await drain(q.t, p.source, p.decide, rails);
    } finally {
      progress.stop();
      await rails.close();
    }
    return report({ queue: q.ref.name, system: q.ref.system, db: q.ref.db, ...result }, async (out) => {
      // A dry run shows what it would move: the first --show jobs, each with where to and why.
      const { writeFirst } = await import('../output/preview.js');
      await writeFirst(out, (result.items ?? []).map((it) => {
        const what = it.job ? `job ${dataText(it.job)}` : dataText((it.item ?? `(base64) ${it.item64}`).slice(0, 60));
        return `${it.action}  ${what}${it.to ? ` → ${dataText(it.to)}` : ''}  (${dataText(it.reason)})`;
      }), show);
      const moved = Object.entries(result.moved).map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing moved';
      const left = Object.entries(result.left).map(([k, v]) => `${v} ${k}`).join(', ');
      out.info(`${result.dryRun ? 'dry run: would have ' : ''}${moved}${left ? `; left in place: ${left}` : ''}${result.gone ? `; ${result.gone} taken by another client meanwhile` : ''}${result.stopped ? ` (stopped: ${result.stopped})` : ''}`);
      for (const m of result.malformed) out.warn(`could not parse, left in place: ${dataText(m.sample)}`);
    }, result.stopped ? ExitCode.partial : ExitCode.ok);
  } finally {
    await q.close();
  }
}

async function retryDrain(ctx: RunContext, name: string, f: FindFlags & RailsFlags & { all?: boolean; maxRetries?: string }): Promise<Outcome> {
  const { retryDrainPlan } = await import('../lib/queues/drain.js');
  const maxRetries = f.maxRetries !== undefined ? parsePositiveInt(f.maxRetries, '--max-retries', { allowZero: true }) : undefined;
  return runDrain(ctx, name, f, 'queue retry-drain', (ref) => retryDrainPlan(ref, { all: Boolean(f.all), maxRetries }));
}

async function dead(ctx: RunContext, name: string, action: string, f: FindFlags & RailsFlags, n: number): Promise<Outcome> {
  const { deadRequeuePlan, deadPurgePlan } = await import('../lib/queues/drain.js');
  if (action === 'requeue') return runDrain(ctx, name, f, 'queue dead requeue', (ref) => deadRequeuePlan(ref));
  if (action === 'purge') return runDrain(ctx, name, f, 'queue dead purge', (ref) => deadPurgePlan(ref));
  const { deadJobs } = await import('../lib/queues/peek.js');
  const q = await pick(ctx, name, f);
  try {
    const { total, jobs } = await deadJobs(q.t, q.ref, n);
    return jobsReport(q.ref, jobs, total);
  } finally {
    await q.close();
  }
}

async function stats(ctx: RunContext, names: string[], f: FindFlags & { watch?: string; promFile?: string }): Promise<Outcome> {
  const { queueStats } = await import('../lib/queues/find.js');
  const { renderQueueTable, renderQueuePrometheus, queueRates } = await import('../output/render/queues.js');
  const { out, signal } = ctx;
  const intervalMs = f.watch !== undefined ? parseDuration(f.watch, '--watch', { minMs: 1000 }) : null;
  const opts = await findOptions(ctx, f, names);
  let prev: { at: number; queues: QueueInfo[] } | null = null;
  for (;;) {
    const progress = await out.progress('finding queues…');
    let queues: QueueInfo[];
    try {
      queues = await queueStats(ctx.target, opts);
    } finally {
      progress.stop();
    }
    const at = Date.now();
    if (f.promFile) {
      const { writeFileAtomic } = await import('../lib/atomicFile.js');
      writeFileAtomic(f.promFile, renderQueuePrometheus(queues, Math.floor(at / 1000)));
    }
    const rates = intervalMs !== null ? queueRates(prev?.queues ?? null, queues, prev ? (at - prev.at) / 1000 : 0) : undefined;
    const doc = { time: new Date(at).toISOString(), queues: queues.map((q) => ({ ...q, ...(rates ? rates.get(q) : {}) })) };
    await report(doc, async (o) => {
      await (await import('../output/table.js')).loadTables();
      const text = queues.length ? renderQueueTable(o, queues, rates) : 'no queues found (the config file can declare queues the walk cannot recognise)';
      if (intervalMs !== null && o.stdoutIsTTY) await o.redraw(`${text}\n`);
      else await o.write(`${text}\n`);
    }).present(out, intervalMs !== null);
    if (intervalMs === null || signal.aborted) break;
    prev = { at, queues };
    const { sleep } = await import('../lib/pace.js');
    await sleep(intervalMs, signal);
    if (signal.aborted) break;
  }
  return ExitCode.ok;
}
