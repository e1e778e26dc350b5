import type { Output } from './output.js';
import { terminalSafe } from '../lib/keyname.js';

export { formatBytes, formatCount } from '../lib/numbers.js';

export type Cell = string | number | null | undefined;

export interface TableSpec {
  head: string[];
  rows: Cell[][];
  /** Columns aligned right (numbers). */
  right?: number[];
  title?: string;
}

let Table: typeof import('cli-table3') | undefined;

/** Loads cli-table3 once, only when a human table is printed. */
export async function loadTables(): Promise<void> {
  if (!Table) Table = (await import('cli-table3')).default as unknown as typeof import('cli-table3');
}

/** A borderless table in the style of kubectl/gh; call loadTables() first. */
export function renderTable(out: Output, spec: TableSpec): string {
  if (!Table) throw new Error('renderTable before loadTables');
  // A cell is one line: a newline inside data must not start a row of its own.
  const cell = (c: Cell) => (c === null || c === undefined ? '-' : terminalSafe(String(c), out.colour).replace(/\r?\n/g, '\\n'));
  const [head, ...rows] = fitWidth([spec.head, ...spec.rows.map((row) => row.map(cell))], out.width);
  const t = new Table({
    head: head!.map((h) => out.c.bold(h)),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: spec.head.map((_, i) => (spec.right?.includes(i) ? 'right' : 'left')),
    // Long cells are cut (fitWidth), never wrapped.
    wordWrap: false,
  });
  for (const row of rows) t.push(row);
  const body = t.toString();
  return spec.title ? `${out.c.bold(spec.title)}\n${body}` : body;
}

export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined) return '-';
  return `${(share * 100).toFixed(share < 0.1 && share > 0 ? 1 : 0)}%`;
}

const ANSI = /\x1b\[[0-9;]*m/g;
const GAP = 2;
const MIN_COLUMN = 8;

/**
 * At a terminal, a table never wraps: when its rows are wider than the
 * screen, the widest columns are narrowed (never below MIN_COLUMN) and their
 * long cells cut in the middle with …, which keeps both ends of a key
 * (`session:9f2c…e41a:profile`). Off a terminal nothing is cut.
 */
export function fitWidth(rows: string[][], width: number | null): string[][] {
  if (width === null || rows.length === 0) return rows;
  const columns = rows[0]!.length;
  const visible = (s: string) => s.replace(ANSI, '').length;
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => visible(r[i] ?? ''))));
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * (columns - 1) - width;
  while (excess > 0) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= MIN_COLUMN) break;
    const cut = Math.min(excess, widths[widest]! - Math.max(MIN_COLUMN, ...widths.filter((_, i) => i !== widest)) || 1);
    widths[widest] = Math.max(MIN_COLUMN, widths[widest]! - Math.max(1, cut));
    excess = widths.reduce((a, b) => a + b, 0) + GAP * (columns - 1) - width;
  }
  return rows.map((r) => r.map((c, i) => (visible(c) > widths[i]! ? cutMiddle(c.replace(ANSI, ''), widths[i]!) : c)));
}

export function cutMiddle(s: string, width: number): string {
  if (s.length <= width) return s;
  const keep = width - 1;
  const head = Math.ceil(keep / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (keep - head))}`;
}
