import type { Check, Status } from '../../lib/health/checks.js';
import type { HealthReport } from '../../lib/health/collect.js';
import type { Output } from '../output.js';
import { healthFamilies } from '../../lib/exporter/families.js';
import { renderExposition } from '../prometheus.js';
import { renderTable } from '../table.js';

export const NAGIOS_EXIT: Record<Status, number> = { ok: 0, warn: 1, crit: 2, unknown: 3 };
const NAGIOS_WORD: Record<Status, string> = { ok: 'OK', warn: 'WARNING', crit: 'CRITICAL', unknown: 'UNKNOWN' };

function paint(out: Output, st: Status): string {
  const word = NAGIOS_WORD[st];
  return st === 'ok' ? out.c.green(word) : st === 'warn' ? out.c.yellow(word) : out.c.red(word);
}

function thresholdText(c: Check): string {
  if (!c.threshold) return '-';
  const u = c.unit === '%' ? '%' : c.unit && c.unit !== 'count' && c.unit !== 'ratio' ? ` ${c.unit}` : '';
  const parts = [c.threshold.warn !== null ? `warn ${c.threshold.warn}${u}` : null, c.threshold.crit !== null ? `crit ${c.threshold.crit}${u}` : null].filter(Boolean);
  return parts.length ? parts.join(', ') : '-';
}

/**
 * Problems first: a line per node (its worst status and how many checks are
 * in each state), then only the checks that are not OK. `all` lists every
 * check, as before.
 */
export function renderHealthTable(out: Output, r: HealthReport, all = false): string {
  const multi = new Set(r.checks.map((c) => c.node)).size > 1;
  const title = `${out.c.bold(`${r.target} (${r.mode})`)}: ${paint(out, r.status)}`;
  const shown = all ? r.checks : r.checks.filter((c) => c.status !== 'ok');
  const parts = [title];
  if (!all) {
    const nodes = [...new Set(r.checks.map((c) => c.node))];
    parts.push(renderTable(out, {
      head: ['node', 'role', 'status', 'checks'],
      rows: nodes.map((node) => {
        const checks = r.checks.filter((c) => c.node === node);
        const counts = (['ok', 'warn', 'crit', 'unknown'] as Status[]).map((st) => [st, checks.filter((c) => c.status === st).length] as const).filter(([, n]) => n > 0);
        const role = r.nodes.find((n) => n.node === node)?.role ?? '-';
        return [node, role, paint(out, worst(checks)), counts.map(([st, n]) => `${n} ${st}`).join(', ')];
      }),
    }));
    if (shown.length === 0) return `${parts.join('\n')}\n${out.c.dim('every check ok (--all lists them)')}\n`;
  }
  const head = [...(multi ? ['node'] : []), 'check', 'status', 'value', 'threshold', 'detail'];
  const rows = shown.map((c) => [
    ...(multi ? [c.node] : []), c.name, paint(out, c.status),
    c.value === null ? '-' : `${c.value}${c.unit === '%' ? '%' : c.unit && !['count', 'ratio'].includes(c.unit) ? ` ${c.unit}` : ''}`,
    thresholdText(c), c.message,
  ]);
  parts.push(renderTable(out, { title: all ? undefined : 'Not OK', head, rows }));
  return `${parts.join(all ? '\n' : '\n\n')}\n`;
}

const RANK: Record<Status, number> = { ok: 0, warn: 1, unknown: 2, crit: 3 };

function worst(checks: Check[]): Status {
  return checks.reduce<Status>((w, c) => (RANK[c.status] > RANK[w] ? c.status : w), 'ok');
}

/** One status line with perfdata, as the monitoring-plugin API wants it. */
export function renderNagios(r: HealthReport): string {
  const bad = r.checks.filter((c) => c.status !== 'ok');
  const summary = bad.length
    ? bad.map((c) => `${c.name} ${c.status} on ${c.node}: ${c.message}`).join('; ')
    : `${r.checks.length} checks ok on ${new Set(r.checks.map((c) => c.node)).size} node(s)`;
  const multi = new Set(r.checks.map((c) => c.node)).size > 1;
  const perf = r.checks
    .filter((c) => typeof c.value === 'number')
    .map((c) => {
      const label = multi ? `${c.node} ${c.name}` : c.name;
      const uom = c.unit === '%' ? '%' : c.unit === 'ms' ? 'ms' : c.unit === 's' ? 's' : c.unit === 'count' ? 'c' : '';
      const warn = c.threshold?.warn ?? '';
      const crit = c.threshold?.crit ?? '';
      const max = c.unit === '%' ? '100' : '';
      return `'${label.replace(/'/g, '')}'=${c.value}${uom};${warn};${crit};0;${max}`.replace(/;+$/, '');
    });
  return `REDIS ${NAGIOS_WORD[r.status]} - ${summary.replace(/\|/g, '/')}${perf.length ? ` | ${perf.join(' ')}` : ''}\n`;
}

/** Prometheus text format for node_exporter's textfile collector (no timestamps). */
export function renderPrometheus(r: HealthReport): string {
  return renderExposition(healthFamilies(r).list());
}
