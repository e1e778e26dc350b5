import { formatDuration } from '../../lib/duration.js';
import { keyText } from '../../lib/keyname.js';
import type { DeleteResult } from '../../lib/keys/delete.js';
import type { KeyReport, PreviewItem, ValueJson } from '../../lib/keys/inspect.js';
import type { KeyStats, TopKey } from '../../lib/keys/stats.js';
import { TTL_BUCKET_LABELS, type TtlBuckets } from '../../lib/keys/ttlBuckets.js';
import type { Output } from '../output.js';
import { formatBytes as formatSize, formatCount, formatPercent, renderTable } from '../table.js';

export function renderKeyStats(out: Output, s: KeyStats): string {
  const c = out.c;
  const parts: string[] = [];
  // Without MEMORY USAGE (ACL), sizes are unknown: '-', never a made-up 0 B.
  const formatBytes = (n: number | null | undefined) => (s.bytesMeasured ? formatSize(n) : '-');
  const est = s.extrapolated ? c.yellow(` (extrapolated ×${s.factor.toFixed(1)} from a sample of ${formatCount(s.scanned)})`) : '';
  const status = s.complete ? '' : c.yellow(' — incomplete walk: figures cover what was scanned');
  parts.push(`${c.bold('Keys')}: ${formatCount(s.scanned)} scanned of ${formatCount(s.dbsize)} (DBSIZE) in ${formatDuration(s.durationMs)}${est}${status}`);
  if (s.dbs.length > 1) {
    parts.push(renderTable(out, {
      title: 'Databases', head: ['db', 'keys', 'memory', 'expiring', 'top patterns'], right: [1, 2, 3],
      rows: s.dbs.map((d) => [`db${d.db}`, formatCount(d.dbsize), formatBytes(d.bytes), formatPercent(d.expiringShare), d.topPatterns.join('  ')]),
    }));
  }
  if (s.nodes.length > 1) {
    parts.push(renderTable(out, {
      title: 'Nodes', head: ['node', 'scanned', 'dbsize'], right: [1, 2],
      rows: s.nodes.map((n) => [n.node, formatCount(n.scanned), formatCount(n.dbsize)]),
    }));
  }
  const total = s.types.reduce((a, t) => a + t.bytes, 0);
  parts.push(renderTable(out, {
    title: 'By type', head: ['type', 'keys', 'memory', 'share'], right: [1, 2, 3],
    rows: s.types.map((t) => [t.type, formatCount(t.count), formatBytes(t.bytes), formatPercent(total ? t.bytes / total : 0)]),
  }));
  parts.push(renderTable(out, {
    title: 'TTL', head: Object.values(TTL_BUCKET_LABELS), right: [0, 1, 2, 3, 4],
    rows: [Object.keys(TTL_BUCKET_LABELS).map((k) => formatCount(s.ttl[k as keyof TtlBuckets]))],
  }));
  parts.push(renderTable(out, {
    title: `Key patterns (separator "${s.separator}", depth ${s.depth})`,
    head: [...(s.dbs.length > 1 ? ['db'] : []), 'pattern', 'keys', 'memory', 'no TTL', 'types', 'biggest key'], right: s.dbs.length > 1 ? [2, 3, 4] : [1, 2, 3],
    rows: s.groups.map((g) => [
      ...(s.dbs.length > 1 ? [g.db < 0 ? '*' : `db${g.db}`] : []),
      g.pattern, formatCount(g.count), formatBytes(g.bytes), formatPercent(g.noTtlShare),
      Object.entries(g.types).sort((a, b) => b[1] - a[1]).map(([t, n]) => (Object.keys(g.types).length > 1 ? `${t}:${formatCount(n)}` : t)).join(' '),
      g.biggest ? `${shortKey(g.biggest)} (${formatBytes(g.biggest.bytes)})` : '-',
    ]),
  }));
  parts.push(renderTop(out, s.bytesMeasured ? 'Top keys by memory' : 'Keys (memory not measured)', s.topByMemory, formatBytes));
  if (s.topByLength) parts.push(renderTop(out, 'Top keys by length', s.topByLength, formatBytes));
  else parts.push(c.dim('Lengths not measured: they refresh idle times before 7.2 (--lengths to measure).'));
  return parts.join('\n\n') + '\n';
}

function renderTop(out: Output, title: string, keys: TopKey[], formatBytes: (n: number | null | undefined) => string): string {
  return renderTable(out, {
    title, head: ['key', 'type', 'memory', 'length', 'ttl', 'node'], right: [2, 3, 4],
    rows: keys.map((k) => [
      shortKey(k), k.type, k.bytes === null ? '-' : `${formatBytes(k.bytes)}${k.exact ? '' : '~'}`, formatCount(k.length),
      k.ttlMs === null ? 'none' : formatDuration(k.ttlMs), k.node,
    ]),
  });
}

function shortKey(k: { key?: string; key64?: string }): string {
  const text = k.key !== undefined ? keyText(Buffer.from(k.key)) : keyText(Buffer.from(k.key64 ?? '', 'base64'));
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export function renderInspect(out: Output, r: KeyReport): string {
  const c = out.c;
  const lines = [
    `${c.bold('key')}       ${shortKey(r)}`,
    `${c.bold('type')}      ${r.type} (${r.encoding ?? 'unknown encoding'})`,
    `${c.bold('ttl')}       ${r.ttlMs === null ? 'none' : formatDuration(r.ttlMs)}`,
    `${c.bold('idle')}      ${r.idleSec === null ? 'unknown (LFU policy)' : formatDuration(r.idleSec * 1000)}`,
    `${c.bold('memory')}    ${formatSize(r.bytes)}`,
    `${c.bold('length')}    ${r.length === null ? '-' : formatCount(r.length)}${r.type === 'string' ? ' bytes' : ' elements'}`,
    `${c.bold('preview')}`,
    ...r.preview.items.map((i) => `  ${previewLine(i)}`),
  ];
  if (r.preview.truncated) lines.push(c.dim('  … (truncated: --items, --max-bytes for more)'));
  if (r.groups) {
    lines.push(`${c.bold('groups')}    ${r.groups.length ? '' : 'none'}`);
    for (const g of r.groups) {
      const name = g.name !== undefined ? keyText(Buffer.from(g.name)) : `(base64) ${g.name64}`;
      lines.push(`  ${name}: last delivered ${g.lastDeliveredId}, ${formatCount(g.pending)} pending, lag ${g.lag === null ? 'unknown' : formatCount(g.lag)}, ${g.consumers.length} consumer(s)`);
      for (const x of g.consumers) lines.push(`    ${x.name !== undefined ? keyText(Buffer.from(x.name)) : `(base64) ${x.name64}`}: ${formatCount(x.pending)} pending, idle ${formatDuration(x.idleMs)}`);
    }
  }
  return lines.join('\n') + '\n';
}

function valueText(v: ValueJson): string {
  return 'value' in v ? keyText(Buffer.from(v.value)) : keyText(Buffer.from(v.value64, 'base64'));
}

function previewLine(i: PreviewItem): string {
  if ('id' in i) return `${i.id}  ${i.fields.map((f) => `${'name' in f ? keyText(Buffer.from(f.name)) : keyText(Buffer.from(f.name64, 'base64'))}=${valueText(f)}`).join(' ')}`;
  if ('field' in i) return `${keyText(Buffer.from(i.field))} = ${valueText(i)}`;
  if ('field64' in i) return `${keyText(Buffer.from(i.field64, 'base64'))} = ${valueText(i)}`;
  if ('score' in i) return `${i.score}  ${valueText(i)}`;
  if ('index' in i) return `[${i.index}] ${valueText(i)}`;
  return valueText(i);
}

export function renderDeleteResult(out: Output, r: DeleteResult): string {
  const verb = r.dryRun ? 'would unlink' : 'unlinked';
  const n = r.dryRun ? r.matched : r.deleted;
  let line = `${verb} ${formatCount(n)} key(s) matching ${r.pattern} in ${formatDuration(r.durationMs)}`;
  if (r.vanished) line += `; ${formatCount(r.vanished)} were already gone`;
  if (r.stoppedBy) line += out.c.yellow(`; stopped early (${r.stoppedBy}): more keys may match`);
  return `${line}\n`;
}
