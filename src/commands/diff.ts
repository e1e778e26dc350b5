import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../lib/duration.js';
import { keyText } from '../lib/keyname.js';
import type { Difference } from '../lib/diff/live.js';
import { addOutputOptions, report, runWithTarget, walkOption, type Outcome, type RunContext } from './context.js';
import { addSidesOptions, sideFlags, type SidesFlags } from './sides.js';

interface DiffFlags extends SidesFlags {
  type: string[];
  count: string;
  ttlTolerance: string;
  show: string;
  sample?: string;
}

export function registerDiff(program: Command): void {
  addOutputOptions(
    addSidesOptions(program.command('diff [patterns...]')
      .description('compare two live deployments (or two databases) key by key: missing, extra, type, value and TTL differences; exit 1 when they differ'),
    { from: 'the reference side', to: 'the side compared with it' })
      .addOption(walkOption.types())
      .addOption(walkOption.count(500))
      .option('--ttl-tolerance <dur>', 'expiries this close count as equal (the sides are read at different moments)', '5s')
      .option('--sample <n>', 'compare N random keys of --from instead of every key (very large keyspaces); extra keys of --to are then not looked for')
      .option('--show <n>', 'differences to list as text (--json lists all)', '20'),
  ).action(async (patterns: string[], _f, cmd: Command) => {
    const f = cmd.opts<DiffFlags>();
    await runWithTarget(cmd, 'diff', (ctx) => diff(ctx, patterns, f), { connection: sideFlags(f.from, '--from', f) });
  });
}

async function diff(ctx: RunContext, patterns: string[], f: DiffFlags): Promise<Outcome> {
  const opts = {
    match: patterns, types: f.type, count: parsePositiveInt(f.count, '--count'),
    ttlToleranceMs: parseDuration(f.ttlTolerance, '--ttl-tolerance'), signal: ctx.signal,
    ...(f.sample !== undefined ? { sample: parsePositiveInt(f.sample, '--sample') } : {}),
  };
  const show = parsePositiveInt(f.show, '--show');
  const to = await ctx.openOther(sideFlags(f.to, '--to', f));
  const from = ctx.target;
  if (from.address === to.address && from.db === to.db) throw new UsageError(`--from and --to are the same database (${from.address}/${from.db}): nothing to compare`);
  const { diffLive } = await import('../lib/diff/live.js');
  const progress = await ctx.out.progress('reading both sides…');
  let d;
  try {
    d = await diffLive(from, to, opts);
  } finally {
    progress.stop();
  }
  const { differences, ...summary } = d;
  const differ = differences.length > 0;
  // Like diff(1): 0 when they agree, 1 when they differ; 3 when a walk was stopped.
  const exit = !d.complete ? ExitCode.partial : differ ? ExitCode.failure : ExitCode.ok;
  return report(summary, async (out) => {
    const shown = (x: Difference) => (x.key !== undefined ? keyText(Buffer.from(x.key, 'utf8')) : `(base64) ${x.key64}`);
    const detail = (x: Difference) => (x.kind === 'type' ? `  ${x.from} → ${x.to}` : x.kind === 'ttl' ? `  expires ${when(x.from)} → ${when(x.to)}` : '');
    const { writeFirst } = await import('../output/preview.js');
    await writeFirst(out, differences.map((x) => `${x.kind.padEnd(7)}  ${shown(x)}${detail(x)}`), show);
    const c = d.counts;
    out.info(`${d.from} vs ${d.to}${d.sampled !== null ? ` (a sample of ${d.sampled} random keys of --from)` : ''}: ${d.same} same; ${c.missing} missing on --to, ${c.extra} extra on --to, ${c.type} of another type, ${c.value} with another value, ${c.ttl} with another expiry${d.complete ? '' : ' (stopped early: the comparison covers what was read)'}`);
  }, exit, { json: 'stderr', lines: differences });
}

function when(ms: string | number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString() : 'never';
}
