import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../lib/duration.js';
import type { Sample, TopSnapshot } from '../lib/top/top.js';
import { addConnectionOptions, allDbsOption, report, runWithTarget, type Outcome, type RunContext } from './context.js';
import { findOptions } from './queue.js';

interface TopFlags {
  once?: boolean;
  interval: string;
  queues: boolean;
  allDbs?: boolean;
  discover?: boolean;
  slowlog: string;
}

export function registerTop(program: Command): void {
  addConnectionOptions(
    program.command('top')
      .description('what the deployment is doing now, refreshed: every node (ops, hits, memory, clients, evictions, network, CPU, replica lag), the queues\' in/out rates, the newest slow commands')
      .option('--once', 'one snapshot (rates over --interval) and exit; also what it does off a terminal or with --json')
      .option('--interval <dur>', 'time between samples: rates are over it', '1s')
      .option('--no-queues', 'leave out the queues (no walk to find them)')
      .addOption(allDbsOption('(for queues)'))
      .option('--discover', 'walk the keyspace for queues even when the config file declares some')
      .option('--slowlog <n>', 'newest slow commands to show (0: none)', '5'),
    { dbShort: true },
  ).action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'top', (ctx) => top(ctx, cmd.opts<TopFlags>()));
  });
}

async function top(ctx: RunContext, f: TopFlags): Promise<Outcome> {
  const intervalMs = parseDuration(f.interval, '--interval', { minMs: 100, maxMs: 3_600_000 });
  const slowlog = parsePositiveInt(f.slowlog, '--slowlog', { allowZero: true });
  const { out, signal } = ctx;
  const { TopSampler, snapshot } = await import('../lib/top/top.js');
  const { sleep } = await import('../lib/pace.js');
  const { loadTables } = await import('../output/table.js');
  const { renderTop, SORTS } = await import('../output/render/top.js');
  await loadTables();
  const progress = await out.progress(f.queues ? 'finding nodes and queues…' : 'finding nodes…');
  let sampler;
  try {
    sampler = await TopSampler.open(ctx.target, { queues: f.queues ? await findOptions(ctx, f) : null, slowlog });
  } finally {
    progress.stop();
  }
  try {
    let prev = await sampler.sample(null);
    const live = !f.once && !out.json && out.stdoutIsTTY && out.interactive;
    if (!live) {
      await sleep(intervalMs, signal);
      const snap = snapshot(prev, await sampler.sample(prev));
      return report(snap, (o) => o.write(renderTop(o, snap, { sort: 'ops' })), snap.nodes.some((n) => n.error) ? ExitCode.failure : ExitCode.ok);
    }
    // Live: redraw every interval until q, Ctrl-C or SIGTERM; p pauses, s cycles the sort.
    let sort = 0;
    let paused = false;
    let quit = false;
    let wake: (() => void) | null = null;
    let last: TopSnapshot | null = null;
    const draw = async () => {
      if (!last) return;
      const rows = out.height ?? 40;
      const status = `sort: ${SORTS[sort]}${paused ? '  PAUSED' : ''}  (q quit, p pause, s sort)`;
      await out.redraw(renderTop(out, last, { sort: SORTS[sort]!, maxRows: Math.max(1, Math.floor((rows - 10) / 3)), status }));
    };
    const leave = out.enterScreen((key) => {
      if (key === 'q' || key === '\x03') quit = true;
      else if (key === 'p') paused = !paused;
      else if (key === 's') sort = (sort + 1) % SORTS.length;
      else return;
      wake?.();
    });
    try {
      while (!quit && !signal.aborted) {
        await Promise.race([sleep(intervalMs, signal), new Promise<void>((r) => { wake = r; })]);
        wake = null;
        if (quit || signal.aborted) break;
        if (!paused) {
          const next: Sample = await sampler.sample(prev);
          // Rates over at least most of an interval: a key pressed early only redraws.
          if (next.atMs - prev.atMs >= intervalMs * 0.5 || !last) {
            last = snapshot(prev, next);
            prev = next;
          }
        }
        await draw();
      }
    } finally {
      leave();
    }
    return ExitCode.ok;
  } finally {
    sampler.close();
  }
}
