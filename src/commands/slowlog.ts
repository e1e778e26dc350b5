import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseDuration } from '../lib/duration.js';
import { railsFrom, railsOptions } from './railsFlags.js';
import type { SlowlogEntry } from '../lib/slowlog/slowlog.js';
import { formatCount } from '../output/table.js';
import { addConnectionOptions, addRailsOptions, addShowOption, runWithTarget, showCount, type RunContext, report, type Outcome } from './context.js';

interface SlowlogFlags {
  group?: boolean;
  since?: string;
  state?: string;
  includeSelf?: boolean;
  json?: boolean;
}

export function registerSlowlog(program: Command): void {
  const slowlog = addConnectionOptions(addShowOption(
    program.command('slowlog')
      .description('slow commands from every node, newest first, with secrets redacted')
      .option('--group', 'aggregate by command: count, total, p50, p99, max')
      .option('--since <id|time>', 'only entries after this id, or since this time (ISO-8601, unix seconds, or a duration ago: 1h)')
      .option('--state <file>', 'remember the newest id per node in FILE and show only newer entries (for cron)')
      .option('--include-self', "include redis-ops's own commands"), 'entries per node, newest first, after filtering', 50),
  { dbShort: false },
  ).enablePositionalOptions().action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'slowlog', (ctx) => showSlowlog(ctx, cmd.opts<SlowlogFlags>(), showCount(cmd, 50, (m) => ctx.out.warn(m))));
  });

  addRailsOptions(
    addConnectionOptions(slowlog.command('reset').description('SLOWLOG RESET on every node, through the safety rails')),
    railsOptions().filter((o) => ['--dry-run', '--yes', '--log'].includes(o.long ?? '')),
  ).action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'slowlog-reset', (ctx) => resetSlowlog(ctx, cmd.opts()));
  });
}

/** An integer below 1e9 is an id; a larger one unix seconds; else ISO-8601 or a duration ago. */
export function parseSince(text: string, now = Date.now()): { id?: number; timeSec?: number } {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < 1e9 ? { id: n } : { timeSec: n };
  }
  const iso = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) || !/T/.test(text) ? text : `${text}Z`);
  if (!Number.isNaN(iso) && /\d{4}-\d\d-\d\d/.test(text)) return { timeSec: Math.floor(iso / 1000) };
  try {
    return { timeSec: Math.floor((now - parseDuration(text, '--since')) / 1000) };
  } catch {
    throw new UsageError(`--since: "${text}" is not an id, a unix time, an ISO-8601 time or a duration (e.g. 1h)`);
  }
}

async function showSlowlog({ target, out }: RunContext, f: SlowlogFlags, count: number): Promise<Outcome> {
  const { discoverNodes, closeNodes } = await import('../lib/connect/nodes.js');
  const { readSlowlog, readState, newSince, advanceState, writeState, groupByCommand } = await import('../lib/slowlog/slowlog.js');
  const since = f.since !== undefined ? parseSince(f.since) : null;
  const state = f.state ? readState(f.state) : null;
  const nodes = await discoverNodes(target);
  let all: SlowlogEntry[] = [];
  const unreachable: string[] = [];
  try {
    for (const n of nodes) {
      if (!n.client) {
        unreachable.push(n.address);
        continue;
      }
      try {
        all.push(...(await readSlowlog(n.client, n.address)));
      } catch (e) {
        throw target.fail(e);
      }
    }
  } finally {
    closeNodes(nodes);
  }
  for (const u of unreachable) out.warn(`warning: ${u} is unreachable; its slowlog is left out`);
  let entries = all;
  if (state) entries = newSince(entries, state);
  if (since?.id !== undefined) entries = entries.filter((e) => e.id > since.id!);
  if (since?.timeSec !== undefined) entries = entries.filter((e) => e.time >= since.timeSec!);
  if (!f.includeSelf) entries = entries.filter((e) => !e.self);
  entries.sort((a, b) => b.time - a.time || b.id - a.id);
  const shown = new Map<string, number>();
  entries = entries.filter((e) => {
    const n = shown.get(e.node) ?? 0;
    shown.set(e.node, n + 1);
    return n < count;
  });
  if (state && f.state) writeState(f.state, advanceState(state, all));
  all = [];

  if (f.group) {
    const groups = groupByCommand(entries);
    return report({ groups }, async (out) => {
      if (groups.length === 0) {
        out.info('no slowlog entries');
        return;
      }
      const { loadTables, renderTable } = await import('../output/table.js');
      await loadTables();
      await out.write(`${renderTable(out, {
        head: ['command', 'count', 'total ms', 'p50 ms', 'p99 ms', 'max ms'], right: [1, 2, 3, 4, 5],
        rows: groups.map((g) => [g.command, formatCount(g.count), (g.totalUs / 1000).toFixed(1), (g.p50Us / 1000).toFixed(2), (g.p99Us / 1000).toFixed(2), (g.maxUs / 1000).toFixed(2)]),
      })}\n`);
    });
  }
  return report({ entries: entries.map(({ self: _self, ...e }) => e) }, async (out) => {
    if (entries.length === 0) {
      out.info('no slowlog entries');
      return;
    }
    const { loadTables, renderTable } = await import('../output/table.js');
    await loadTables();
    const multi = nodes.length > 1;
    await out.write(`${renderTable(out, {
      head: [...(multi ? ['node'] : []), 'id', 'time', 'ms', 'command', 'client'], right: multi ? [1, 3] : [0, 2],
      rows: entries.map((e) => [
        ...(multi ? [e.node] : []), e.id, new Date(e.time * 1000).toISOString().replace('.000Z', 'Z'), (e.durationUs / 1000).toFixed(2),
        e.args.join(' '), [e.clientAddr, e.clientName].filter(Boolean).join(' '),
      ]),
    })}\n`);
  });
}

async function resetSlowlog({ target, out, newRails }: RunContext, f: { dryRun?: boolean; yes?: boolean; log?: string }): Promise<Outcome> {
  const { planSlowlogReset, applySlowlogReset } = await import('../lib/slowlog/slowlog.js');
  const rails = await newRails(railsFrom('slowlog reset', f), 'slowlogs');
  const plan = await planSlowlogReset(target);
  let results;
  try {
    await rails.confirm({
      description: `SLOWLOG RESET on ${plan.nodes.length} node(s), dropping ${plan.nodes.reduce((a, n) => a + n.entries, 0)} entries`,
      sample: plan.nodes.map((n) => `${n.address}: ${n.entries} entries`), target: target.address,
    }, out);
    results = await applySlowlogReset(plan, rails);
  } finally {
    plan.close();
    await rails.close();
  }
  return report({ dryRun: rails.dryRun, nodes: results }, (o) => o.write(results.map((r) => `${r.node}: ${rails.dryRun ? 'would drop' : 'dropped'} ${r.entries} entries\n`).join('')));
}
