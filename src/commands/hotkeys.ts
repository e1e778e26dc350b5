import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { parseBytes, parseDuration, parsePositiveInt, parsePositiveNumber } from '../lib/duration.js';
import type { HotMethod } from '../lib/hotkeys/hotkeys.js';
import { addConnectionOptions, report, runWithTarget, walkOption, type Outcome, type RunContext } from './context.js';

interface HotFlags {
  method: string;
  duration: string;
  maxBytes: string;
  top: string;
  count: string;
  rate?: string;
  separator: string;
  depth: string;
  yes?: boolean;
}

export function registerHotkeys(program: Command): void {
  addConnectionOptions(
    program.command('hotkeys [pattern]')
      .description('the most accessed keys across every primary: the server\'s own HOTKEYS (8.6+), LFU counters, or a bounded MONITOR sample with the command mix')
      .option('--method <m>', 'auto (the best each node allows), hotkeys, lfu or monitor', 'auto')
      .option('--duration <dur>', 'how long to sample with MONITOR or HOTKEYS (at most 60s)', '10s')
      .option('--max-bytes <size>', 'MONITOR: stop after this much of its output per run', '64mb')
      .option('--top <n>', 'keys (and commands, patterns) to list', '10')
      .addOption(walkOption.count(1000))
      .option('--rate <n>', 'LFU walk: keys per second at most')
      .addOption(walkOption.separator())
      .addOption(walkOption.depth())
      .option('-y, --yes', 'run MONITOR without asking (required off a terminal): it costs the server throughput while it runs'),
    { dbShort: true },
  ).action(async (pattern: string | undefined, _f, cmd: Command) => {
    await runWithTarget(cmd, 'hotkeys', (ctx) => hotkeys(ctx, pattern, cmd.opts<HotFlags>()));
  });
}

async function hotkeys(ctx: RunContext, pattern: string | undefined, f: HotFlags): Promise<Outcome> {
  if (!['auto', 'hotkeys', 'lfu', 'monitor'].includes(f.method)) throw new UsageError(`--method: "${f.method}" is not auto, hotkeys, lfu or monitor`);
  const opts = {
    method: f.method as HotMethod | 'auto',
    top: parsePositiveInt(f.top, '--top'),
    durationMs: parseDuration(f.duration, '--duration', { minMs: 1000, maxMs: 60_000, why: 'MONITOR costs throughput while it runs' }),
    maxBytes: parseBytes(f.maxBytes, '--max-bytes'),
    count: parsePositiveInt(f.count, '--count'),
    rate: f.rate !== undefined ? parsePositiveNumber(f.rate, '--rate') : undefined,
    separator: f.separator,
    depth: parsePositiveInt(f.depth, '--depth'),
    signal: ctx.signal,
    ...(pattern !== undefined ? { match: pattern } : {}),
  };
  const { chooseMethods, hotKeys } = await import('../lib/hotkeys/hotkeys.js');
  const { out, target } = ctx;
  const methods = await chooseMethods(target, opts.method);
  const monitored = [...methods].filter(([, m]) => m === 'monitor').map(([n]) => n.address);
  if (monitored.length) {
    // MONITOR copies every command to us: a cost the operator agrees to.
    const { Rails } = await import('../lib/rails.js');
    await new Rails({ command: 'hotkeys', dryRun: false, yes: Boolean(f.yes) }).confirm({
      description: `run MONITOR on ${monitored.length} primar${monitored.length === 1 ? 'y' : 'ies'} for up to ${f.duration} (it costs throughput while it runs: every command is copied to this client)`,
      sample: monitored, target: target.address,
    }, out);
  }
  const progress = await out.progress(monitored.length ? `sampling for ${f.duration}…` : 'reading…');
  let r;
  try {
    r = await hotKeys(target, methods, opts);
  } finally {
    progress.stop();
  }
  const unread = Object.values(r.method).some((m) => m === 'refused' || m === 'unreachable');
  for (const [node, m] of Object.entries(r.method)) if (m === 'refused' || m === 'unreachable') out.warn(`warning: ${node}: ${r.notes[node]}`);
  return report(r, async (o) => {
    const { renderHotkeys } = await import('../output/render/hotkeys.js');
    await o.write(await renderHotkeys(o, r));
  }, unread ? ExitCode.failure : ctx.signal.aborted ? ExitCode.partial : ExitCode.ok);
}
