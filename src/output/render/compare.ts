import type { Comparison, PatternChange } from '../../lib/keys/compare.js';
import type { KeyStats } from '../../lib/keys/stats.js';
import type { Output } from '../output.js';
import { formatBytes, formatCount, formatPercent, renderTable } from '../table.js';

const signed = (n: number | null) => (n === null ? '-' : `${n > 0 ? '+' : ''}${(n * 100).toFixed(Math.abs(n) < 0.1 ? 1 : 0)}%`);
const arrow = (a: string, b: string) => `${a} → ${b}`;

function cells(c: PatternChange, bytes: (n: number | null) => string): string[] {
  return [
    c.pattern, c.status, arrow(c.countBefore === null ? '-' : formatCount(c.countBefore), c.countNow === null ? '-' : formatCount(c.countNow)),
    arrow(bytes(c.bytesBefore), bytes(c.bytesNow)), signed(c.bytesGrowth),
    arrow(c.noTtlShareBefore === null ? '-' : formatPercent(c.noTtlShareBefore), c.noTtlShareNow === null ? '-' : formatPercent(c.noTtlShareNow)),
  ];
}

const HEAD = ['pattern', 'status', 'keys', 'memory', 'growth', 'no TTL'];

/** The comparison as a table after the report, with the broken rules. */
export function renderComparison(out: Output, c: Comparison, show: number): string {
  const rows = c.patterns.slice(0, show);
  const parts = [renderTable(out, {
    title: `Since ${c.previous}${c.previousAt ? ` (${c.previousAt})` : ''}, most grown first`,
    head: HEAD, right: [4],
    rows: rows.map((p) => cells(p, (n) => (n === null ? '-' : formatBytes(n)))),
  })];
  if (c.patterns.length > show) parts.push(out.c.dim(`… and ${c.patterns.length - show} more patterns (--json lists all)`));
  for (const f of c.failed) parts.push(out.c.red(`growth rule broken: ${f.pattern} ${f.bytesGrowth === null ? 'is new' : `grew ${signed(f.bytesGrowth)}`} (--fail-on-growth ${f.rule})`));
  return `${parts.join('\n')}\n`;
}

/** A Markdown summary for a ticket or a chat: the figures, the patterns, the comparison, the biggest keys. */
export function renderMarkdown(s: KeyStats & { at: string; target: string }, c: Comparison | null): string {
  const esc = (t: string) => t.replace(/\|/g, '\\|').replace(/`/g, "'");
  const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
  const bytes = (n: number | null) => (n === null || !s.bytesMeasured ? '-' : formatBytes(n));
  const lines = [
    `# keys stats: ${esc(s.target)}`,
    '',
    `${s.at} · ${formatCount(s.scanned)} keys scanned of ${formatCount(s.dbsize)}${s.extrapolated ? ` (a sample, extrapolated ×${s.factor.toFixed(1)})` : ''}${s.complete ? '' : ' · incomplete walk'}`,
    '',
    '## Key patterns',
    '',
    table(['pattern', 'keys', 'memory', 'no TTL'], s.groups.map((g) => [g.pattern, formatCount(g.count), bytes(g.bytes), formatPercent(g.noTtlShare)])),
  ];
  if (c) {
    lines.push('', `## Since ${c.previous}${c.previousAt ? ` (${c.previousAt})` : ''}`, '', table(HEAD, c.patterns.map((p) => cells(p, bytes))));
    if (c.failed.length) lines.push('', ...c.failed.map((f) => `- **growth rule broken**: \`${esc(f.pattern)}\` ${f.bytesGrowth === null ? 'is new' : `grew ${signed(f.bytesGrowth)}`} (rule ${esc(f.rule)})`));
  }
  lines.push('', '## Biggest keys', '', table(['key', 'type', 'memory', 'node'], s.topByMemory.map((k) => [k.key ?? `(base64) ${k.key64}`, k.type, bytes(k.bytes), k.node])));
  return `${lines.join('\n')}\n`;
}
