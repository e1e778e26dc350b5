import type { Labels, MetricFamily } from '../lib/exporter/metrics.js';

/**
 * A Prometheus label value, escaped as the text format requires (\\, ",
 * newline). Other control bytes from stored data (a queue named with an
 * escape sequence) are written as visible \xNN, so a scrape read at a
 * terminal cannot drive it.
 */
export function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPE: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** The format a scraper's Accept header asks for: OpenMetrics only when it names it. */
export function formatFor(accept: string | undefined): ExpositionFormat {
  return accept && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'text';
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${labelValue(String(v))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * The Prometheus text format 0.0.4, or OpenMetrics 1.0 (where a counter's
 * family is named without `_total`, its samples with it, and the text ends
 * with `# EOF`). Families without samples are left out; no timestamps.
 */
export function renderExposition(families: MetricFamily[], format: ExpositionFormat = 'text'): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!f.samples.length) continue;
    const family = format === 'openmetrics' && f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    lines.push(`# HELP ${family} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${family} ${f.type}`);
    for (const s of f.samples) lines.push(`${f.name}${labelText(s.labels)} ${valueText(s.value)}`);
  }
  if (format === 'openmetrics') lines.push('# EOF');
  return lines.length ? `${lines.join('\n')}\n` : '';
}
