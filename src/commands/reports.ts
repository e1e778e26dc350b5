import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../lib/duration.js';
import { addConnectionOptions, runWithTarget, type RunContext, allDbsOption, report, type Outcome, walkOption } from './context.js';

export function registerReports(program: Command): void {
  addConnectionOptions(
    program.command('memory')
      .description('memory on every node (INFO, MEMORY STATS, MEMORY DOCTOR) and the keys and patterns that hold it')
      .option('--no-scan', 'only the server-reported figures; do not walk the keys')
      .option('--html <file>', 'also write a self-contained HTML report (memory breakdown per node, the doctor\'s advice, the patterns that hold it)')
      .addOption(walkOption.top())
      .addOption(walkOption.groups(15))
      .addOption(allDbsOption('(walked; the server figures cover them all anyway)')),
  ).action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'memory', (ctx) => memory(ctx, cmd.opts()));
  });

  addConnectionOptions(
    program.command('latency')
      .description('PING round-trip percentiles, LATENCY events and per-command percentiles, on every node')
      .option('--samples <n>', 'PINGs per node', '100')
      .option('--interval <dur>', 'pause between PINGs', '10ms'),
  ).action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'latency', (ctx) => latency(ctx, cmd.opts()));
  });
}

async function memory({ target, out, signal }: RunContext, f: { scan: boolean; top: string; groups: string; allDbs?: boolean; html?: string }): Promise<Outcome> {
  const { memoryReport } = await import('../lib/memory/report.js');
  const nodes = await memoryReport(target);
  let scan = null;
  if (f.scan) {
    const { collectKeyStats } = await import('../lib/keys/stats.js');
    const { ProgressMeter } = await import('../output/progressText.js');
    let meter: InstanceType<typeof ProgressMeter> | null = null;
    const { databasesToWalk } = await import('../lib/connect/dbs.js');
    const dbs = await databasesToWalk(target, Boolean(f.allDbs), (m) => out.warn(m), { mentionOthers: true });
    const progress = await out.progress('walking keys…');
    try {
      scan = await collectKeyStats(target, {
        separator: ':', depth: 3, count: 250, lengths: 'auto', signal, dbs,
        top: parsePositiveInt(f.top, '--top', { allowZero: true }),
        groups: parsePositiveInt(f.groups, '--groups'),
        onFallback: (_n, why) => out.warn(why),
        onNoBytes: (node) => out.warn(`warning: ${node}: MEMORY USAGE is not allowed for this user; the key walk goes on without bytes ("bytesMeasured": false)`),
        onProgress: (p) => {
          if (!progress.active) return;
          meter ??= new ProgressMeter(p.total);
          progress.update(meter.text(p.scanned, 'walking'));
        },
      });
    } finally {
      progress.stop();
    }
  }
  const exit = nodes.some((n) => n.error) ? ExitCode.failure : scan && !scan.complete ? ExitCode.partial : ExitCode.ok;
  if (f.html) {
    const { writeFileAtomic } = await import('../lib/atomicFile.js');
    const { memoryHtml } = await import('../output/html/reports.js');
    writeFileAtomic(f.html, memoryHtml(nodes, scan, { target: `${target.address}/${target.db}`, at: new Date().toISOString() }), 0o644, '--html');
  }
  return report({ nodes, scan }, async (o) => {
    const { loadTables } = await import('../output/table.js');
    const { renderMemory } = await import('../output/render/reports.js');
    const { renderKeyStats } = await import('../output/render/keys.js');
    await loadTables();
    await o.write(renderMemory(o, nodes));
    if (scan) await o.write(`\n${renderKeyStats(o, scan)}`);
  }, exit);
}

async function latency({ target, out, signal }: RunContext, f: { samples: string; interval: string }): Promise<Outcome> {
  const { measureLatency } = await import('../lib/latency/report.js');
  const progress = await out.progress('measuring…');
  let nodes;
  try {
    nodes = await measureLatency(target, {
      samples: parsePositiveInt(f.samples, '--samples'),
      intervalMs: parseDuration(f.interval, '--interval'),
      signal,
    });
  } finally {
    progress.stop();
  }
  return report({ nodes }, async (o) => {
    const { loadTables } = await import('../output/table.js');
    const { renderLatency } = await import('../output/render/reports.js');
    await loadTables();
    await o.write(renderLatency(o, nodes));
  }, nodes.some((n) => n.error) ? ExitCode.failure : ExitCode.ok);
}
