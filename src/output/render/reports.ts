import type { NodeLatency } from '../../lib/latency/report.js';
import type { NodeMemory } from '../../lib/memory/report.js';
import type { Output } from '../output.js';
import { formatBytes, formatCount, renderTable } from '../table.js';

export function renderMemory(out: Output, nodes: NodeMemory[]): string {
  const parts: string[] = [];
  for (const n of nodes) {
    if (n.error) {
      parts.push(`${out.c.bold(n.node)} (${n.role}): ${out.c.red(n.error)}`);
      continue;
    }
    const pct = (a: number | null, b: number | null) => (a !== null && b ? ` (${((a / b) * 100).toFixed(0)}%)` : '');
    const rows: [string, string][] = [
      ['used', `${formatBytes(n.usedBytes)}${n.maxmemoryBytes ? ` of maxmemory ${formatBytes(n.maxmemoryBytes)}${pct(n.usedBytes, n.maxmemoryBytes)}` : ' (no maxmemory)'}`],
      ['policy', n.maxmemoryPolicy ?? '-'],
      ['rss', `${formatBytes(n.rssBytes)}${n.totalSystemBytes ? ` of ${formatBytes(n.totalSystemBytes)} host memory${pct(n.rssBytes, n.totalSystemBytes)}` : ''}`],
      ['peak', formatBytes(n.peakBytes)],
      ['dataset', `${formatBytes(n.datasetBytes)}${pct(n.datasetBytes, n.usedBytes)}`],
      ['overhead', `${formatBytes(n.overheadBytes)} (startup ${formatBytes(n.startupBytes)})`],
      ['fragmentation', `${n.fragmentationRatio ?? '-'} (${formatBytes(n.fragmentationBytes)})`],
      ['client buffers', `${formatBytes(n.clientsNormalBytes)} normal, ${formatBytes(n.clientsReplicaBytes)} replicas`],
      ['repl. backlog', formatBytes(n.replicationBacklogBytes)],
      ['lua / functions', `${formatBytes(n.luaBytes)} / ${formatBytes(n.functionsBytes)}`],
      ['keyspace', n.keyspace.map((k) => `db${k.db}: ${formatCount(k.keys)} keys, ${formatCount(k.expires)} expiring`).join('; ') || 'empty'],
    ];
    parts.push(`${out.c.bold(n.node)} (${n.role})\n${renderTable(out, { head: [], rows })}`);
    if (n.doctor) parts.push(`${out.c.bold('MEMORY DOCTOR')}: ${n.doctor.trim()}`);
  }
  return `${parts.join('\n\n')}\n`;
}

export function renderLatency(out: Output, nodes: NodeLatency[]): string {
  const parts: string[] = [];
  parts.push(renderTable(out, {
    title: 'PING round trip (µs)',
    head: ['node', 'role', 'samples', 'min', 'p50', 'p90', 'p99', 'max'], right: [2, 3, 4, 5, 6, 7],
    rows: nodes.map((n) => n.ping
      ? [n.node, n.role, n.ping.samples, n.ping.minUs, n.ping.p50Us, n.ping.p90Us, n.ping.p99Us, n.ping.maxUs]
      : [n.node, n.role, out.c.red(n.error ?? 'unreachable'), '', '', '', '', '']),
  }));
  for (const n of nodes) {
    if (n.error) continue;
    if (n.monitor.hint) parts.push(`${out.c.bold(n.node)}: ${out.c.dim(n.monitor.hint)}`);
    else if (n.monitor.latest.length) {
      parts.push(renderTable(out, {
        title: `${n.node}: latency events (threshold ${n.monitor.thresholdMs ?? '?'} ms)`,
        head: ['event', 'last', 'latest ms', 'max ms'], right: [2, 3],
        rows: n.monitor.latest.map((e) => [e.event, new Date(e.time * 1000).toISOString(), e.latestMs, e.maxMs]),
      }));
      if (n.monitor.doctor) parts.push(n.monitor.doctor.trim());
    } else parts.push(`${out.c.bold(n.node)}: no latency events above ${n.monitor.thresholdMs ?? '?'} ms`);
    if (n.commands?.length) {
      parts.push(renderTable(out, {
        title: `${n.node}: slowest commands by p99 (INFO latencystats, µs)`,
        head: ['command', 'p50', 'p99', 'p99.9'], right: [1, 2, 3],
        rows: n.commands.slice(0, 15).map((c) => [c.command, c.p50Us, c.p99Us, c.p999Us]),
      }));
    }
  }
  return `${parts.join('\n\n')}\n`;
}
