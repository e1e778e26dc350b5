import type { Check } from '../../lib/health/checks.js';
import type { HealthReport } from '../../lib/health/collect.js';
import type { Comparison } from '../../lib/keys/compare.js';
import type { KeyStats, TopKey } from '../../lib/keys/stats.js';
import { TTL_BUCKET_LABELS, type TtlBuckets } from '../../lib/keys/ttlBuckets.js';
import type { NodeMemory } from '../../lib/memory/report.js';
import { formatDuration } from '../../lib/duration.js';
import { formatBytes, formatCount } from '../../lib/numbers.js';
import { PALETTE, bars, clip, esc, page, stacked, table } from './page.js';

const pct = (n: number | null | undefined) => (n === null || n === undefined ? '-' : `${(n * 100).toFixed(n < 0.1 && n > 0 ? 1 : 0)}%`);
const keyName = (k: { key?: string; key64?: string }) => (k.key !== undefined ? `<code>${esc(k.key)}</code>` : `<code>(base64) ${esc(k.key64)}</code>`);

interface Box { x: number; y: number; w: number; h: number }

/** Squarified treemap layout (Bruls, Huizing, van Wijk): rectangles close to squares, areas proportional to values. */
export function squarify<T extends { value: number }>(items: T[], box: Box): (T & Box)[] {
  const total = items.reduce((a, i) => a + i.value, 0);
  if (total <= 0) return [];
  const scale = (box.w * box.h) / total;
  const queue = items.filter((i) => i.value > 0).sort((a, b) => b.value - a.value).map((i) => ({ item: i, area: i.value * scale }));
  const out: (T & Box)[] = [];
  const rect = { ...box };
  let row: typeof queue = [];
  const worst = (r: typeof queue, side: number) => {
    const sum = r.reduce((a, x) => a + x.area, 0);
    const max = Math.max(...r.map((x) => x.area));
    const min = Math.min(...r.map((x) => x.area));
    return Math.max((side * side * max) / (sum * sum), (sum * sum) / (side * side * min));
  };
  const place = (r: typeof queue) => {
    const sum = r.reduce((a, x) => a + x.area, 0);
    if (rect.w >= rect.h) {
      const width = sum / rect.h;
      let y = rect.y;
      for (const x of r) {
        const h = x.area / width;
        out.push({ ...x.item, x: rect.x, y, w: width, h });
        y += h;
      }
      rect.x += width;
      rect.w -= width;
    } else {
      const height = sum / rect.w;
      let x0 = rect.x;
      for (const x of r) {
        const w = x.area / height;
        out.push({ ...x.item, x: x0, y: rect.y, w, h: height });
        x0 += w;
      }
      rect.y += height;
      rect.h -= height;
    }
  };
  while (queue.length) {
    const side = Math.min(rect.w, rect.h);
    const next = queue[0]!;
    if (!row.length || worst([...row, next], side) <= worst(row, side)) {
      row.push(next);
      queue.shift();
    } else {
      place(row);
      row = [];
    }
  }
  if (row.length) place(row);
  return out;
}

const TYPE_COLOUR: Record<string, string> = { string: PALETTE[0]!, hash: PALETTE[1]!, list: PALETTE[2]!, set: PALETTE[3]!, zset: PALETTE[4]!, stream: PALETTE[5]! };
const f2 = (n: number) => n.toFixed(2);

/** Bytes by pattern (one rectangle each, class "pattern"), each split by type inside. */
function treemap(s: KeyStats): string {
  const groups = s.groups.filter((g) => g.bytes > 0);
  const W = 900;
  const H = 420;
  const tiles = squarify(groups.map((g) => ({ ...g, value: g.bytes })), { x: 0, y: 0, w: W, h: H });
  const parts = tiles.map((t) => {
    // Types inside a pattern, in proportion to their key counts (bytes per type are not kept per pattern).
    const types = Object.entries(t.types).filter(([, n]) => n > 0);
    const totalKeys = types.reduce((a, [, n]) => a + n, 0) || 1;
    let off = 0;
    const inner = types.map(([type, n]) => {
      const horizontal = t.w >= t.h;
      const size = ((horizontal ? t.w : t.h) * n) / totalKeys;
      const r = horizontal
        ? `<rect class="type" data-type="${type}" x="${f2(t.x + off)}" y="${f2(t.y)}" width="${f2(size)}" height="${f2(t.h)}" fill="${TYPE_COLOUR[type] ?? PALETTE[9]}" opacity=".85"></rect>`
        : `<rect class="type" data-type="${type}" x="${f2(t.x)}" y="${f2(t.y + off)}" width="${f2(t.w)}" height="${f2(size)}" fill="${TYPE_COLOUR[type] ?? PALETTE[9]}" opacity=".85"></rect>`;
      off += size;
      return r;
    }).join('');
    const label = t.w > 70 && t.h > 28 ? `<text class="label" x="${f2(t.x + 4)}" y="${f2(t.y + 14)}">${esc(clip(t.pattern, Math.floor(t.w / 7)))}</text><text class="label" x="${f2(t.x + 4)}" y="${f2(t.y + 27)}">${esc(formatBytes(t.bytes))}</text>` : '';
    return `<g>${inner}<rect class="pattern" data-pattern="${esc(t.pattern)}" data-bytes="${t.bytes}" x="${f2(t.x)}" y="${f2(t.y)}" width="${f2(t.w)}" height="${f2(t.h)}" fill="none" stroke="var(--bg)" stroke-width="2"><title>${esc(t.pattern)}: ${esc(formatBytes(t.bytes))}, ${formatCount(t.count)} keys</title></rect>${label}</g>`;
  }).join('\n');
  const legend = Object.entries(TYPE_COLOUR).map(([t, c]) => `<span><i style="background:${c}"></i>${t}</span>`).join('');
  return `<svg class="treemap" viewBox="0 0 ${W} ${H}" width="100%" role="img">${parts}</svg><p class="legend">${legend}</p>`;
}

function topTable(keys: TopKey[], bytesMeasured: boolean): string {
  return table<TopKey>([
    { head: 'key', cell: keyName },
    { head: 'type', cell: (k) => esc(k.type) },
    { head: 'memory', numeric: true, cell: (k) => (k.bytes === null || !bytesMeasured ? '-' : esc(formatBytes(k.bytes))), value: (k) => k.bytes },
    { head: 'length', numeric: true, cell: (k) => esc(formatCount(k.length)), value: (k) => k.length },
    { head: 'ttl', cell: (k) => (k.ttlMs === null ? 'none' : esc(formatDuration(k.ttlMs))) },
    { head: 'node', cell: (k) => esc(k.node) },
  ], keys, 'topkeys');
}

export function keyStatsHtml(s: KeyStats, meta: { target: string; at: string; comparison: Comparison | null }): string {
  const body: string[] = [];
  const bytes = (n: number | null) => (s.bytesMeasured && n !== null ? formatBytes(n) : '-');
  if (s.bytesMeasured && s.groups.some((g) => g.bytes > 0)) body.push('<h2>Memory by key pattern</h2>', treemap(s));
  else body.push('<h2>Memory by key pattern</h2><p class="meta">Memory was not measured (MEMORY USAGE not allowed for this user).</p>');
  body.push('<h2>Keys and memory per pattern</h2>',
    bars(s.groups.map((g) => ({ label: g.pattern, value: g.bytes, text: bytes(g.bytes) })), 'bytes-bars'),
    bars(s.groups.map((g) => ({ label: g.pattern, value: g.count, text: `${formatCount(g.count)} keys` })), 'count-bars'));
  body.push('<h2>Type mix</h2>', stacked(s.types.map((t) => ({ label: t.type, value: s.bytesMeasured ? t.bytes : t.count, text: s.bytesMeasured ? formatBytes(t.bytes) : `${formatCount(t.count)} keys`, colour: TYPE_COLOUR[t.type] })), 'types'));
  body.push('<h2>Expiry</h2>', stacked((Object.keys(TTL_BUCKET_LABELS) as (keyof TtlBuckets)[]).map((k) => ({ label: TTL_BUCKET_LABELS[k], value: s.ttl[k], text: formatCount(s.ttl[k]) })), 'ttl'));
  body.push(table([
    { head: 'pattern', cell: (g: KeyStats['groups'][number]) => `<code>${esc(g.pattern)}</code>` },
    ...(s.dbs.length > 1 ? [{ head: 'db', cell: (g: KeyStats['groups'][number]) => (g.db < 0 ? '*' : `db${g.db}`) }] : []),
    { head: 'keys', numeric: true, cell: (g) => formatCount(g.count), value: (g) => g.count },
    { head: 'memory', numeric: true, cell: (g) => esc(bytes(g.bytes)), value: (g) => g.bytes },
    { head: 'no TTL', numeric: true, cell: (g) => pct(g.noTtlShare), value: (g) => g.noTtlShare },
    ...(Object.keys(TTL_BUCKET_LABELS) as (keyof TtlBuckets)[]).filter((k) => k !== 'none').map((k) => ({ head: TTL_BUCKET_LABELS[k], numeric: true, cell: (g: KeyStats['groups'][number]) => formatCount(g.ttl[k]), value: (g: KeyStats['groups'][number]) => g.ttl[k] })),
    { head: 'biggest key', cell: (g) => (g.biggest ? `${keyName(g.biggest)} (${esc(bytes(g.biggest.bytes))})` : '-') },
  ], s.groups, 'patterns'));
  if (meta.comparison) {
    const c = meta.comparison;
    body.push(`<h2>Since ${esc(c.previous)}${c.previousAt ? ` (${esc(c.previousAt)})` : ''}</h2>`, table([
      { head: 'pattern', cell: (p: Comparison['patterns'][number]) => `<code>${esc(p.pattern)}</code>` },
      { head: 'status', cell: (p) => `<span class="${p.status === 'grown' || p.status === 'new' ? 'warn' : 'ok'}">${p.status}</span>` },
      { head: 'keys', numeric: true, cell: (p) => `${formatCount(p.countBefore)} → ${formatCount(p.countNow)}`, value: (p) => p.countNow },
      { head: 'memory', numeric: true, cell: (p) => `${esc(bytes(p.bytesBefore))} → ${esc(bytes(p.bytesNow))}`, value: (p) => p.bytesNow },
      { head: 'growth', numeric: true, cell: (p) => (p.bytesGrowth === null ? '-' : `${p.bytesGrowth > 0 ? '+' : ''}${pct(p.bytesGrowth)}`), value: (p) => p.bytesGrowth },
      { head: 'no TTL', numeric: true, cell: (p) => `${pct(p.noTtlShareBefore)} → ${pct(p.noTtlShareNow)}` },
    ], c.patterns, 'comparison'));
    for (const f of c.failed) body.push(`<p class="crit">growth rule broken: <code>${esc(f.pattern)}</code> ${f.bytesGrowth === null ? 'is new' : `grew ${pct(f.bytesGrowth)}`} (${esc(f.rule)})</p>`);
  }
  body.push('<h2>Biggest keys</h2>', topTable(s.topByMemory, s.bytesMeasured));
  if (s.topByLength) body.push('<h2>Longest keys</h2>', topTable(s.topByLength, s.bytesMeasured));
  if (s.nodes.length > 1) {
    body.push('<h2>Nodes</h2>', table([
      { head: 'node', cell: (n: KeyStats['nodes'][number]) => esc(n.node) },
      { head: 'scanned', numeric: true, cell: (n) => formatCount(n.scanned), value: (n) => n.scanned },
      { head: 'dbsize', numeric: true, cell: (n) => formatCount(n.dbsize), value: (n) => n.dbsize },
    ], s.nodes));
  }
  if (s.dbs.length > 1) {
    body.push('<h2>Databases</h2>', table([
      { head: 'db', cell: (d: KeyStats['dbs'][number]) => `db${d.db}` },
      { head: 'keys', numeric: true, cell: (d) => formatCount(d.dbsize), value: (d) => d.dbsize },
      { head: 'memory', numeric: true, cell: (d) => esc(bytes(d.bytes)), value: (d) => d.bytes },
      { head: 'expiring', numeric: true, cell: (d) => pct(d.expiringShare) },
      { head: 'top patterns', cell: (d) => d.topPatterns.map((p) => `<code>${esc(p)}</code>`).join(' ') },
    ], s.dbs));
  }
  const metaLine = `${esc(meta.at)} · ${esc(meta.target)} · ${formatCount(s.scanned)} keys scanned of ${formatCount(s.dbsize)} in ${esc(formatDuration(s.durationMs))}${s.extrapolated ? ` · a sample, extrapolated ×${s.factor.toFixed(1)}` : ''}${s.complete ? '' : ' · <span class="warn">incomplete walk</span>'}`;
  return page(`keys stats: ${meta.target}`, metaLine, body);
}

export function memoryHtml(nodes: NodeMemory[], scan: KeyStats | null, meta: { target: string; at: string }): string {
  const body: string[] = [];
  for (const n of nodes) {
    body.push(`<h2>${esc(n.node)} <span class="meta">${esc(n.role)}</span></h2>`);
    if (n.error) {
      body.push(`<p class="crit">${esc(n.error)}</p>`);
      continue;
    }
    const v = (x: number | null) => Math.max(0, x ?? 0);
    const parts = [
      { label: 'dataset', value: v(n.datasetBytes) },
      { label: 'startup', value: v(n.startupBytes) },
      { label: 'other overhead', value: Math.max(0, v(n.overheadBytes) - v(n.startupBytes) - v(n.clientsNormalBytes) - v(n.clientsReplicaBytes) - v(n.replicationBacklogBytes) - v(n.aofBufferBytes)) },
      { label: 'client buffers', value: v(n.clientsNormalBytes) },
      { label: 'replica buffers', value: v(n.clientsReplicaBytes) },
      { label: 'replication backlog', value: v(n.replicationBacklogBytes) },
      { label: 'AOF buffer', value: v(n.aofBufferBytes) },
      { label: 'fragmentation', value: v(n.fragmentationBytes) },
    ].filter((p) => p.value > 0).map((p) => ({ ...p, text: formatBytes(p.value) }));
    body.push(stacked(parts, 'breakdown'));
    body.push(`<p>used ${esc(formatBytes(n.usedBytes))} · RSS ${esc(formatBytes(n.rssBytes))} · peak ${esc(formatBytes(n.peakBytes))} · fragmentation ${n.fragmentationRatio ?? '-'} · maxmemory ${n.maxmemoryBytes ? esc(formatBytes(n.maxmemoryBytes)) : 'none'} (${esc(n.maxmemoryPolicy ?? '-')})</p>`);
    if (n.doctor) body.push(`<p><b>MEMORY DOCTOR</b></p><pre>${esc(n.doctor)}</pre>`);
  }
  if (scan) {
    body.push('<h2>Patterns that hold the memory</h2>');
    if (scan.bytesMeasured && scan.groups.some((g) => g.bytes > 0)) body.push(treemap(scan));
    body.push(bars(scan.groups.map((g) => ({ label: g.pattern, value: g.bytes, text: formatBytes(g.bytes) })), 'bytes-bars'));
    body.push('<h2>Biggest keys</h2>', topTable(scan.topByMemory, scan.bytesMeasured));
  }
  return page(`memory: ${meta.target}`, `${esc(meta.at)} · ${nodes.length} node(s)`, body);
}

export function healthHtml(r: HealthReport): string {
  const level = (l: { warn?: number; crit?: number } | null) => (l ? `warn ${l.warn ?? '-'} · crit ${l.crit ?? '-'}` : '');
  const body = [
    `<h2>Overall: <span class="${r.status}">${r.status.toUpperCase()}</span></h2>`,
    table([
      { head: 'node', cell: (n: HealthReport['nodes'][number]) => esc(n.node) },
      { head: 'role', cell: (n) => esc(n.role) },
      { head: 'reachable', cell: (n) => (n.reachable ? '<span class="ok">yes</span>' : '<span class="crit">no</span>') },
      { head: 'keys', numeric: true, cell: (n) => formatCount(n.keyspace.reduce((a, d) => a + d.keys, 0)), value: (n) => n.keyspace.reduce((a, d) => a + d.keys, 0) },
    ], r.nodes, 'nodes'),
    '<h2>Checks</h2>',
    table([
      { head: 'node', cell: (c: Check) => esc(c.node) },
      { head: 'check', cell: (c) => esc(c.name) },
      { head: 'status', cell: (c) => `<span class="${c.status}">${c.status.toUpperCase()}</span>`, value: (c) => ['ok', 'warn', 'crit', 'unknown'].indexOf(c.status) },
      { head: 'value', numeric: true, cell: (c) => `${esc(c.value)}${c.unit ? ` ${esc(c.unit)}` : ''}` },
      { head: 'thresholds', cell: (c) => esc(level(c.threshold as { warn?: number; crit?: number } | null)) },
      { head: 'message', cell: (c) => esc(c.message) },
    ], r.checks, 'checks'),
  ];
  return page(`health: ${r.target}`, `${esc(r.checkedAt)} · ${esc(r.mode)} · ${r.nodes.length} node(s)`, body);
}
