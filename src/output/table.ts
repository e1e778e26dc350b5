import type { Output } from './output.js';
import { terminalSafe } from '../lib/keyname.js';

export { formatCount } from '../lib/numbers.js';

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
  const t = new Table({
    head: spec.head.map((h) => out.c.bold(h)),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: spec.head.map((_, i) => (spec.right?.includes(i) ? 'right' : 'left')),
  });
  // A cell is one line: a newline inside data must not start a row of its own.
  const cell = (c: Cell) => (c === null || c === undefined ? '-' : terminalSafe(String(c), out.colour).replace(/\r?\n/g, '\\n'));
  for (const row of spec.rows) t.push(row.map(cell));
  const body = t.toString();
  return spec.title ? `${out.c.bold(spec.title)}\n${body}` : body;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined) return '-';
  return `${(share * 100).toFixed(share < 0.1 && share > 0 ? 1 : 0)}%`;
}
