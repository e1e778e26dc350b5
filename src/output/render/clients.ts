import type { ClientGroup, ClientsReport } from '../../lib/clients/clients.js';
import { formatDuration } from '../../lib/duration.js';
import type { Output } from '../output.js';
import { formatBytes, formatCount, loadTables, renderTable } from '../table.js';

const TITLES: Record<ClientGroup['by'], string> = { name: 'By client name', host: 'By source host', user: 'By user' };

/** The groupings (one, or all three), then the nodes' counts and the offenders. */
export async function renderClients(out: Output, r: ClientsReport, by: ClientGroup['by'] | undefined, show: number): Promise<string> {
  await loadTables();
  const parts: string[] = [];
  parts.push(`${formatCount(r.clients.length)} connection(s) on ${r.nodes.length} node(s)${r.nodes.length > 1 ? `: ${r.nodes.map((n) => `${n.node} ${n.role} ${n.error ? out.c.red('unreachable') : formatCount(n.clients)}`).join(', ')}` : ''}`);
  for (const kind of by ? [by] : (['name', 'host', 'user'] as const)) {
    const groups = r.groups.filter((g) => g.by === kind);
    const shown = groups.slice(0, show);
    parts.push(renderTable(out, {
      title: TITLES[kind],
      head: [kind, 'conns', 'oldest', 'max idle', 'memory', 'out buf', 'blocked', 'last commands'], right: [1, 2, 3, 4, 5, 6],
      rows: shown.map((g) => [
        g.value, formatCount(g.count), formatDuration(g.oldestAgeSec * 1000), formatDuration(g.longestIdleSec * 1000),
        formatBytes(g.totMemBytes), g.outputBytes ? formatBytes(g.outputBytes) : '0', g.blocked ? out.c.yellow(formatCount(g.blocked)) : '0',
        g.commands.map((c) => `${c.cmd}×${c.count}`).join(' '),
      ]),
    }) + (groups.length > show ? `\n${out.c.dim(`… and ${groups.length - show} more (--show N)`)}` : ''));
  }
  if (r.offenders.length) {
    parts.push(renderTable(out, {
      title: out.c.red('Offenders'),
      head: ['kind', 'node', 'client', 'why'],
      rows: r.offenders.map((o) => [o.kind, o.node ?? '-', `${o.id ? `id=${o.id} ` : ''}${o.what}`, o.reason]),
    }));
  }
  return `${parts.join('\n\n')}\n`;
}
