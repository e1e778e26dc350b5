import type { NodeRow, TopSnapshot } from '../../lib/top/top.js';
import { formatBytes, formatCount, formatPercent, renderTable } from '../table.js';
import type { Output } from '../output.js';

/** The columns `s` cycles through in the live view (descending, except the node name). */
export const SORTS = ['ops', 'memory', 'clients', 'cpu', 'net', 'node'] as const;
export type SortColumn = (typeof SORTS)[number];

const SORT_KEY: Record<SortColumn, (n: NodeRow) => number | string> = {
  ops: (n) => n.opsPerSec ?? -1, memory: (n) => n.usedBytes ?? -1, clients: (n) => n.clients ?? -1,
  cpu: (n) => n.cpuPerSec ?? -1, net: (n) => (n.netInBytesPerSec ?? 0) + (n.netOutBytesPerSec ?? 0), node: (n) => n.node,
};

function sorted(nodes: NodeRow[], by: SortColumn): NodeRow[] {
  const key = SORT_KEY[by];
  return [...nodes].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return typeof x === 'string' ? x.localeCompare(String(y)) : (y as number) - x || a.node.localeCompare(b.node);
  });
}

const perSec = (n: number | null) => (n === null ? '-' : formatCount(n));
const bytesPerSec = (n: number | null) => (n === null ? '-' : `${formatBytes(n)}/s`);

/** The whole view: totals, nodes, queues, slow commands; `maxRows` keeps it on one screen. */
export function renderTop(out: Output, s: TopSnapshot, opts: { sort: SortColumn; maxRows?: number; status?: string }): string {
  const t = s.totals;
  const lines: string[] = [];
  lines.push(`${out.c.bold('redis-ops top')}  ${s.at}  every ${s.intervalSec}s  ${t.nodes} node(s)  ${out.c.bold(formatCount(t.opsPerSec))} ops/s  ${formatBytes(t.usedBytes)} used (primaries)  ${formatCount(t.clients)} clients  in ${bytesPerSec(t.netInBytesPerSec)} out ${bytesPerSec(t.netOutBytesPerSec)}${opts.status ? `  ${opts.status}` : ''}`);
  lines.push('');
  const budget = opts.maxRows ?? Infinity;
  const nodes = sorted(s.nodes, opts.sort);
  const shownNodes = nodes.slice(0, Math.max(1, Math.min(nodes.length, budget)));
  lines.push(renderTable(out, {
    head: ['node', 'role', 'ops/s', 'hit', 'memory', 'max', 'frag', 'clients', 'blocked', 'evict/s', 'expire/s', 'net in', 'net out', 'cpu', 'lag'],
    right: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    rows: shownNodes.map((n) => n.error ? [n.node, n.role, out.c.red(n.error), '', '', '', '', '', '', '', '', '', '', '', ''] : [
      n.node, n.role, perSec(n.opsPerSec), n.hitRatio === null ? '-' : formatPercent(n.hitRatio), formatBytes(n.usedBytes),
      n.maxBytes ? formatBytes(n.maxBytes) : '-', n.fragmentation === null ? '-' : n.fragmentation.toFixed(2), formatCount(n.clients),
      n.blockedClients ? out.c.yellow(formatCount(n.blockedClients)) : '0', n.evictedPerSec ? out.c.red(perSec(n.evictedPerSec)) : perSec(n.evictedPerSec), perSec(n.expiredPerSec),
      bytesPerSec(n.netInBytesPerSec), bytesPerSec(n.netOutBytesPerSec), n.cpuPerSec === null ? '-' : n.cpuPerSec.toFixed(2),
      n.replLagBytes === null ? '-' : formatBytes(n.replLagBytes),
    ]),
  }));
  if (nodes.length > shownNodes.length) lines.push(out.c.dim(`… and ${nodes.length - shownNodes.length} more nodes`));
  if (s.queues.length) {
    lines.push('');
    const queues = [...s.queues].sort((a, b) => b.waiting - a.waiting || a.name.localeCompare(b.name));
    const shown = queues.slice(0, Math.max(1, Math.min(queues.length, budget)));
    lines.push(renderTable(out, {
      head: ['queue', 'system', 'waiting', 'active', 'dead', 'in/s', 'out/s'], right: [2, 3, 4, 5, 6],
      rows: shown.map((q) => [q.name, q.system, formatCount(q.waiting), q.active === null ? '-' : formatCount(q.active), q.dead ? out.c.red(formatCount(q.dead)) : q.dead === null ? '-' : '0',
        `${perSec(q.inPerSec)}${q.ratesExact || q.inPerSec === null ? '' : '+'}`, `${perSec(q.outPerSec)}${q.ratesExact || q.outPerSec === null ? '' : '+'}`]),
    }));
    if (queues.length > shown.length) lines.push(out.c.dim(`… and ${queues.length - shown.length} more queues`));
  }
  if (s.slowlog.length) {
    lines.push('');
    lines.push(renderTable(out, {
      head: ['slow', 'node', 'ms', 'command'], right: [2],
      rows: s.slowlog.slice(0, Math.max(1, Math.min(s.slowlog.length, budget))).map((e) => [new Date(e.time * 1000).toISOString().slice(11, 19), e.node, (e.durationUs / 1000).toFixed(1), e.args.join(' ')]),
    }));
  }
  return `${lines.join('\n')}\n`;
}
