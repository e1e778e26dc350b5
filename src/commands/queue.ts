import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { parseDuration } from '../lib/duration.js';
import type { DeclaredQueue } from '../lib/queues/config.js';
import type { FindOptions } from '../lib/queues/find.js';
import type { QueueInfo } from '../lib/queues/model.js';
import { addConnectionOptions, type RunContext, runWithTarget } from './context.js';

interface FindFlags {
  allDbs?: boolean;
  discover?: boolean;
}

const findFlags = (c: Command) => c
  .option('--all-dbs', 'every non-empty logical database')
  .option('--discover', 'walk the keyspace for queues even when the config file declares some');

export async function findOptions(ctx: RunContext, f: FindFlags, names: string[] = []): Promise<FindOptions> {
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  return {
    dbs: await databasesToWalk(ctx.target, Boolean(f.allDbs), (m) => ctx.out.warn(m)),
    declared: (ctx.config.sections.queues as DeclaredQueue[] | undefined) ?? [],
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
}

async function stats(ctx: RunContext, names: string[], f: FindFlags & { watch?: string; promFile?: string }): Promise<number> {
  const { queueStats } = await import('../lib/queues/find.js');
  const { renderQueueTable, renderQueuePrometheus, queueRates } = await import('../output/render/queues.js');
  const { out, signal } = ctx;
  const intervalMs = f.watch !== undefined ? parseDuration(f.watch, '--watch') : null;
  const opts = await findOptions(ctx, f, names);
  if (!out.json) await (await import('../output/table.js')).loadTables();
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
    if (out.json) {
      const doc = { time: new Date(at).toISOString(), queues: queues.map((q) => ({ ...q, ...(rates ? rates.get(q) : {}) })) };
      await out.write(`${JSON.stringify(doc, null, intervalMs !== null ? undefined : 2)}\n`);
    } else {
      const text = queues.length ? renderQueueTable(out, queues, rates) : 'no queues found (the config file can declare queues the walk cannot recognise)';
      if (intervalMs !== null && out.stdoutIsTTY) await out.write(`\x1b[H\x1b[2J${text}\n`);
      else await out.write(`${text}\n`);
    }
    if (intervalMs === null || signal.aborted) break;
    prev = { at, queues };
    const { sleep } = await import('../lib/pace.js');
    await sleep(intervalMs, signal);
    if (signal.aborted) break;
  }
  return ExitCode.ok;
}
