import type { CleanupSummary } from '../../lib/ttl/cleanup.js';
import { labelValue } from '../prometheus.js';

/** The summary of a ttl cleanup run, as Prometheus text for node_exporter's textfile collector. */
export function renderCleanupPrometheus(pattern: string, s: CleanupSummary, nowSec: number): string {
  const p = labelValue(pattern);
  const outcomes: [string, number][] = [
    ['scanned', s.scanned], ['matched', s.matched], ['changed', s.changed],
    ...Object.entries(s.skipped).map(([why, n]) => [`skipped_${why}`, n] as [string, number]),
  ];
  return [
    '# HELP redis_ops_ttl_cleanup_keys Keys seen by the last ttl cleanup run, by outcome.',
    '# TYPE redis_ops_ttl_cleanup_keys gauge',
    ...outcomes.map(([o, n]) => `redis_ops_ttl_cleanup_keys{pattern="${p}",outcome="${o}"} ${n}`),
    '# HELP redis_ops_ttl_cleanup_duration_seconds How long the last run took.',
    '# TYPE redis_ops_ttl_cleanup_duration_seconds gauge',
    `redis_ops_ttl_cleanup_duration_seconds{pattern="${p}"} ${(s.durationMs / 1000).toFixed(3)}`,
    '# HELP redis_ops_ttl_cleanup_last_run_timestamp_seconds When the last run ended.',
    '# TYPE redis_ops_ttl_cleanup_last_run_timestamp_seconds gauge',
    `redis_ops_ttl_cleanup_last_run_timestamp_seconds{pattern="${p}"} ${nowSec}`,
    '',
  ].join('\n');
}
