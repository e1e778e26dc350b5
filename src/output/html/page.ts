import { terminalSafe } from '../../lib/keyname.js';

/**
 * A report as one self-contained HTML file: styles, the little script that
 * sorts tables, and the charts (inline SVG drawn here) are all inside it, and
 * its Content-Security-Policy forbids every fetch, so it opens the same from a
 * file:// URL, a mail attachment or a CI artifact, and never calls out.
 */
export function esc(text: string | number | null | undefined): string {
  // Control bytes from data are shown escaped (\x1b), as in the terminal.
  return terminalSafe(String(text ?? ''), false).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2127; --bg: #fff; --muted: #5f6b7a; --line: #d8dde3; --ok: #2e7d32; --warn: #b26a00; --crit: #c62828; --unknown: #6a1b9a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ed; --bg: #16191d; --muted: #9aa5b1; --line: #333a42; --ok: #66bb6a; --warn: #ffb74d; --crit: #ef5350; --unknown: #ba68c8; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2em auto; max-width: 1100px; padding: 0 1em; }
h1 { font-size: 1.5em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.6em 0 .5em; border-bottom: 1px solid var(--line); padding-bottom: .2em; }
.meta { color: var(--muted); } table { border-collapse: collapse; width: 100%; margin: .4em 0; }
th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; } th { cursor: pointer; user-select: none; } th:after { content: ' ⇅'; color: var(--muted); font-size: .8em; }
code { font: 12px ui-monospace, monospace; word-break: break-all; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .crit { color: var(--crit); font-weight: 600; } .unknown { color: var(--unknown); }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); } svg .label { pointer-events: none; }
.legend span { display: inline-block; margin-right: 1em; } .legend i { display: inline-block; width: .8em; height: .8em; margin-right: .3em; vertical-align: middle; }
@media print { th:after { content: ''; } body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } }
`;

// Click a header to sort its table by that column (numbers by the value in data-v).
const SCRIPT = `
for (const th of document.querySelectorAll('th')) th.addEventListener('click', () => {
  const table = th.closest('table'); const i = [...th.parentNode.children].indexOf(th); const body = table.tBodies[0];
  const desc = th.dataset.dir !== 'desc'; th.dataset.dir = desc ? 'desc' : 'asc';
  const val = (tr) => { const td = tr.children[i]; return td.dataset.v !== undefined ? Number(td.dataset.v) : td.textContent; };
  [...body.rows].sort((a, b) => { const x = val(a), y = val(b); const c = typeof x === 'number' ? x - y : String(x).localeCompare(String(y)); return desc ? -c : c; }).forEach((r) => body.appendChild(r));
});
`;

export function page(title: string, meta: string, body: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><h1>${esc(title)}</h1><p class="meta">${meta}</p>
${body.join('\n')}
<script>${SCRIPT}</script></body></html>
`;
}

export interface Column<T> { head: string; numeric?: boolean; cell: (row: T) => string; value?: (row: T) => number | null }

/** A sortable table; cells are HTML already escaped by the caller's `cell`. */
export function table<T>(columns: Column<T>[], rows: T[], cls = ''): string {
  const head = columns.map((c) => `<th${c.numeric ? ' class="n"' : ''}>${esc(c.head)}</th>`).join('');
  const body = rows.map((r) => `<tr>${columns.map((c) => {
    const v = c.value?.(r);
    return `<td${c.numeric ? ' class="n"' : ''}${v !== undefined && v !== null ? ` data-v="${v}"` : ''}>${c.cell(r)}</td>`;
  }).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Horizontal bars, one per item, lengths proportional to the values. */
export function bars(items: { label: string; value: number; text: string }[], cls: string): string {
  const max = Math.max(1, ...items.map((i) => i.value));
  const rowH = 22;
  const labelW = 260;
  const width = 900;
  const rows = items.map((it, i) => {
    const w = ((width - labelW - 90) * it.value) / max;
    return `<g transform="translate(0 ${i * rowH})"><text class="label" x="${labelW - 6}" y="15" text-anchor="end">${esc(clip(it.label, 40))}</text>`
      + `<rect class="bar" data-label="${esc(it.label)}" data-value="${it.value}" x="${labelW}" y="4" width="${w.toFixed(2)}" height="14" fill="${PALETTE[0]}"></rect>`
      + `<text class="label" x="${(labelW + w + 6).toFixed(2)}" y="15">${esc(it.text)}</text></g>`;
  }).join('');
  return `<svg class="${cls}" viewBox="0 0 ${width} ${items.length * rowH + 4}" width="100%" role="img">${rows}</svg>`;
}

/** One bar split in parts (a mix: types, TTL buckets, memory breakdown), with a legend. */
export function stacked(parts: { label: string; value: number; text: string; colour?: string }[], cls: string): string {
  const total = parts.reduce((a, p) => a + p.value, 0) || 1;
  let x = 0;
  const rects = parts.map((p, i) => {
    const w = (900 * p.value) / total;
    const r = `<rect class="part" data-label="${esc(p.label)}" data-value="${p.value}" x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="28" fill="${p.colour ?? PALETTE[i % PALETTE.length]}"><title>${esc(p.label)}: ${esc(p.text)}</title></rect>`;
    x += w;
    return r;
  }).join('');
  const legend = parts.map((p, i) => `<span><i style="background:${p.colour ?? PALETTE[i % PALETTE.length]}"></i>${esc(p.label)} ${esc(p.text)}</span>`).join('');
  return `<svg class="${cls}" viewBox="0 0 900 28" width="100%" role="img">${rects}</svg><p class="legend">${legend}</p>`;
}

export function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
