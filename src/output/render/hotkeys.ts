import type { HotReport } from '../../lib/hotkeys/hotkeys.js';
import { keyText } from '../../lib/keyname.js';
import type { Output } from '../output.js';
import { formatCount, formatPercent, loadTables, renderTable } from '../table.js';

export async function renderHotkeys(out: Output, r: HotReport): Promise<string> {
  await loadTables();
  const parts: string[] = [];
  parts.push(Object.entries(r.method).map(([node, m]) => `${node}: ${m === 'refused' || m === 'unreachable' ? out.c.red(m) : m}${r.notes[node] ? out.c.dim(` (${r.notes[node]})`) : ''}`).join('\n'));
  const shown = (k: { key?: string; key64?: string }) => (k.key !== undefined ? keyText(Buffer.from(k.key, 'utf8')) : `(base64) ${k.key64}`);
  parts.push(renderTable(out, {
    title: 'Hot keys',
    head: ['key', 'node', 'ops', 'ops/s', 'share', 'freq', 'cpu µs'], right: [2, 3, 4, 5, 6],
    rows: r.keys.map((k) => [shown(k), k.node, k.ops === null ? '-' : formatCount(k.ops), k.opsPerSec === null ? '-' : formatCount(k.opsPerSec), k.share === null ? '-' : formatPercent(k.share), k.freq ?? '-', k.cpuUs ?? '-']),
  }));
  if (r.commands.length) {
    parts.push(renderTable(out, {
      title: 'Commands (MONITOR sample)', head: ['command', 'ops', 'ops/s', 'share'], right: [1, 2, 3],
      rows: r.commands.map((c) => [c.command, formatCount(c.ops), formatCount(c.opsPerSec), formatPercent(c.share)]),
    }));
    parts.push(renderTable(out, {
      title: 'Key patterns (MONITOR sample)', head: ['pattern', 'ops', 'ops/s', 'share'], right: [1, 2, 3],
      rows: r.patterns.map((p) => [p.pattern, formatCount(p.ops), formatCount(p.opsPerSec), formatPercent(p.share)]),
    }));
    parts.push(out.c.dim(`${formatCount(r.sampled.lines)} commands sampled in ${r.durationSec} s (${formatCount(r.sampled.bytes)} bytes of MONITOR output${r.sampled.stoppedBy === 'max-bytes' ? ', stopped at --max-bytes' : ''})`));
  }
  return `${parts.join('\n\n')}\n`;
}
