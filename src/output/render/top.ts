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

interface Column<T> { head: string; right: boolean; cell: (row: T, out: Output) => string }

/** The node columns, most wanted first: on a narrow terminal the last ones are left out. */
const NODE_COLUMNS: Column<NodeRow>[] = [
  { head: 'node', right: false, cell: (n) => n.node },
  { head: 'role', right: false, cell: (n) => n.role },
  { head: 'ops/s', right: true, cell: (n) => perSec(n.opsPerSec) },
  { head: 'memory', right: true, cell: (n) => formatBytes(n.usedBytes) },
  { head: 'clients', right: true, cell: (n) => formatCount(n.clients) },
  { head: 'cpu', right: true, cell: (n) => (n.cpuPerSec === null ? '-' : n.cpuPerSec.toFixed(2)) },
  { head: 'hit', right: true, cell: (n) => (n.hitRatio === null ? '-' : formatPercent(n.hitRatio)) },
  { head: 'evict/s', right: true, cell: (n, out) => (n.evictedPerSec ? out.c.red(perSec(n.evictedPerSec)) : perSec(n.evictedPerSec)) },
  { head: 'lag', right: true, cell: (n) => (n.replLagBytes === null ? '-' : formatBytes(n.replLagBytes)) },
  { head: 'net in', right: true, cell: (n) => bytesPerSec(n.netInBytesPerSec) },
  { head: 'net out', right: true, cell: (n) => bytesPerSec(n.netOutBytesPerSec) },
  { head: 'blocked', right: true, cell: (n, out) => (n.blockedClients ? out.c.yellow(formatCount(n.blockedClients)) : '0') },
  { head: 'max', right: true, cell: (n) => (n.maxBytes ? formatBytes(n.maxBytes) : '-') },
  { head: 'frag', right: true, cell: (n) => (n.fragmentation === null ? '-' : n.fragmentation.toFixed(2)) },
  { head: 'expire/s', right: true, cell: (n) => perSec(n.expiredPerSec) },
];

const ANSI = /\x1b\[[0-9;]*m/g;

/** A table of as many leading columns as fit the width (all of them off a terminal); an unreachable node says why. */
function fittingTable(out: Output, columns: Column<NodeRow>[], rows: NodeRow[], width: number | null): string {
  const cellsOf = (r: NodeRow, cols: Column<NodeRow>[]) => (r.error ? [r.node, r.role, out.c.red(r.error), ...cols.slice(3).map(() => '')].slice(0, cols.length) : cols.map((c) => c.cell(r, out)));
  let cols = columns;
  // Their natural width (before renderTable would cut cells to fit): drop columns from the end until it fits.
  while (width !== null && cols.length > 3) {
    const cells = rows.map((r) => cellsOf(r, cols));
    const natural = cols.reduce((sum, c, i) => sum + Math.max(c.head.length, ...cells.map((row) => row[i]!.replace(ANSI, '').length)), 0) + 2 * (cols.length - 1);
    if (natural <= width) break;
    cols = cols.slice(0, -1);
  }
  return renderTable(out, {
    head: cols.map((c) => c.head),
    right: cols.map((c, i) => (c.right ? i : -1)).filter((i) => i >= 0),
    rows: rows.map((r) => cellsOf(r, cols)),
  });
}

/** The whole view: totals, nodes, queues, slow commands; `maxRows` keeps it on one screen. */
export function renderTop(out: Output, s: TopSnapshot, opts: { sort: SortColumn; maxRows?: number; status?: string }): string {
  const t = s.totals;
  const lines: string[] = [];
  const width = out.width;
  const cut = (text: string) => (width !== null && text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text);
  // Two short lines rather than one that a terminal would wrap.
  lines.push(out.c.bold(cut(`redis-ops top  ${s.at}  every ${s.intervalSec}s${opts.status ? `  ${opts.status}` : ''}`)));
  lines.push(cut(`${t.nodes} node(s)  ${formatCount(t.opsPerSec)} ops/s  ${formatBytes(t.usedBytes)} used (primaries)  ${formatCount(t.clients)} clients  in ${bytesPerSec(t.netInBytesPerSec)}  out ${bytesPerSec(t.netOutBytesPerSec)}`));
  lines.push('');
  const budget = opts.maxRows ?? Infinity;
  const nodes = sorted(s.nodes, opts.sort);
  const shownNodes = nodes.slice(0, Math.max(1, Math.min(nodes.length, budget)));
  lines.push(fittingTable(out, NODE_COLUMNS, shownNodes, width));
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
