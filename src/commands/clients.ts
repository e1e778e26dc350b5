import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { parseBytes, parseDuration, parsePositiveInt } from '../lib/duration.js';
import { dataText } from '../lib/keyname.js';
import type { ClientsReport, KillFilter } from '../lib/clients/clients.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import { addConnectionOptions, addRailsOptions, dryRunShow, dryRunShowOption, report, runWithTarget, type Outcome, type RunContext } from './context.js';

interface ListFlags {
  by?: string;
  outputOver: string;
  idleOver?: string;
  hostShare: string;
  failOnOffenders?: boolean;
  show: string;
}

interface KillFlags extends RailsFlags {
  idleOver?: string;
  name?: string;
  addr?: string;
  clientUser?: string;
  show?: string;
}

export function registerClients(program: Command): void {
  const clients = addConnectionOptions(
    program.command('clients')
      .description('who is connected, on every node: grouped by client name, source host and user, with offenders flagged')
      .option('--by <what>', 'the grouping to show: name, host or user (--json has all three)')
      .option('--output-over <size>', 'flag clients whose output buffer is larger (e.g. 512kb, 16mb)', '16mb')
      .option('--idle-over <dur>', 'flag clients idle longer than this (e.g. 1h)')
      .option('--host-share <pct>', 'flag a source host holding more than this % of the connections (with 10 or more)', '50')
      .option('--fail-on-offenders', 'exit 1 when any client is flagged (a CI or monitoring check)')
      .option('--show <n>', 'rows per grouping', '15'),
    { dbShort: false },
  ).enablePositionalOptions().action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'clients', (ctx) => list(ctx, cmd.opts<ListFlags>()));
  });

  addRailsOptions(addConnectionOptions(
    clients.command('kill')
      .description('close client connections matching every filter given (never our own, never a replication link)')
      .option('--idle-over <dur>', 'idle longer than this')
      .option('--name <name>', 'with this client name')
      .option('--addr <host[:port]>', 'from this address (a host alone matches every port)')
      .option('--client-user <name>', 'authenticated as this ACL user (--user is the user redis-ops connects as)'),
    { dbShort: false },
  ), [...railsOptions(), dryRunShowOption()]).action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'clients-kill', (ctx) => kill(ctx, cmd.opts<KillFlags>()));
  });
}

async function list(ctx: RunContext, f: ListFlags): Promise<Outcome> {
  if (f.by !== undefined && !['name', 'host', 'user'].includes(f.by)) throw new UsageError(`--by: "${f.by}" is not name, host or user`);
  const share = Number(f.hostShare);
  if (!Number.isFinite(share) || share <= 0 || share > 100) throw new UsageError(`--host-share: "${f.hostShare}" is not a percentage from 1 to 100`);
  const thresholds = {
    outputOverBytes: parseBytes(f.outputOver, '--output-over'),
    idleOverSec: f.idleOver !== undefined ? parseDuration(f.idleOver, '--idle-over') / 1000 : null,
    hostShare: share / 100,
  };
  const show = parsePositiveInt(f.show, '--show');
  const { collectClients } = await import('../lib/clients/clients.js');
  const progress = await ctx.out.progress('reading CLIENT LIST…');
  let r: ClientsReport;
  try {
    r = await collectClients(ctx.target, thresholds);
  } finally {
    progress.stop();
  }
  const failed = r.nodes.some((n) => n.error);
  const exit = failed ? ExitCode.failure : f.failOnOffenders && r.offenders.length ? ExitCode.failure : ExitCode.ok;
  return report(r, async (out) => {
    const { renderClients } = await import('../output/render/clients.js');
    await out.write(await renderClients(out, r, f.by as 'name' | 'host' | 'user' | undefined, show));
    for (const n of r.nodes) if (n.error) out.warn(`warning: ${n.node}: ${n.error}`);
  }, exit);
}

async function kill(ctx: RunContext, f: KillFlags): Promise<Outcome> {
  const filter: KillFilter = {
    ...(f.idleOver !== undefined ? { idleOverSec: parseDuration(f.idleOver, '--idle-over') / 1000 } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.addr !== undefined ? { addr: f.addr } : {}),
    ...(f.clientUser !== undefined ? { user: f.clientUser } : {}),
  };
  if (!Object.keys(filter).length) throw new UsageError('clients kill: give at least one of --idle-over, --name, --addr, --client-user (it never kills every client)');
  const show = dryRunShow(f);
  const { planKill, killClients } = await import('../lib/clients/clients.js');
  const { out, target } = ctx;
  const rails = await ctx.newRails(railsFrom('clients kill', f), 'connections');
  const plan = await planKill(target, filter);
  if (!plan.length) {
    await rails.close();
    return report({ dryRun: rails.dryRun, matched: 0, killed: 0, skipped: {}, clients: [], stopped: null }, (o) => o.info('no client matches'));
  }
  let result;
  try {
    await rails.confirm({
      description: `close ${plan.length} client connection(s)`,
      sample: plan.slice(0, 5).map((c) => `${c.node} id=${c.id} ${c.addr}${c.name ? ` name=${dataText(c.name)}` : ''} idle ${c.idleSec}s`),
      target: target.address,
    }, out);
    result = await killClients(target, plan, filter, rails);
  } finally {
    await rails.close();
  }
  return report(result, async (o) => {
    const { writeFirst } = await import('../output/preview.js');
    await writeFirst(o, result.clients.map((c) => `${c.node} id=${c.id} ${c.addr}${c.name ? ` name=${dataText(c.name)}` : ''} user=${dataText(c.user)} idle ${c.idleSec}s: ${c.result}`), result.dryRun ? show : result.clients.length);
    const skipped = Object.entries(result.skipped).map(([k, v]) => `${v} ${k}`).join(', ');
    o.info(`${result.dryRun ? 'dry run: would close' : 'closed'} ${result.dryRun ? result.clients.length : result.killed} of ${result.matched} matching connection(s)${skipped ? `; left alone: ${skipped}` : ''}${result.stopped ? ` (stopped: ${result.stopped})` : ''}`);
  }, result.stopped ? ExitCode.partial : ExitCode.ok);
}
