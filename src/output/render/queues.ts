import type { QueueInfo } from '../../lib/queues/model.js';
import { formatDuration } from '../../lib/duration.js';
import { queueFamilies } from '../../lib/exporter/families.js';
import { renderExposition } from '../prometheus.js';
import type { Output } from '../output.js';
import { formatCount, renderTable } from '../table.js';

/** Net change of `waiting` and jobs finished (completed + dead) per second since the previous sample. */
export interface QueueRates {
  waitingPerSec: number | null;
  finishedPerSec: number | null;
}

export function queueRates(prev: QueueInfo[] | null, next: QueueInfo[], seconds: number): Map<QueueInfo, QueueRates> {
  const out = new Map<QueueInfo, QueueRates>();
  for (const q of next) {
    const p = prev?.find((x) => x.system === q.system && x.name === q.name && x.db === q.db);
    const per = (a: number | null, b: number | null) => (a === null || b === null || seconds <= 0 ? null : Math.round(((b - a) / seconds) * 10) / 10);
    const finished = (x: QueueInfo) => (x.completed === null && x.dead === null ? null : (x.completed ?? 0) + (x.dead ?? 0));
    out.set(q, p ? { waitingPerSec: per(p.waiting, q.waiting), finishedPerSec: per(finished(p), finished(q)) } : { waitingPerSec: null, finishedPerSec: null });
  }
  return out;
}

export function renderQueueTable(out: Output, queues: QueueInfo[], rates?: Map<QueueInfo, QueueRates>): string {
  const dbs = new Set(queues.map((q) => q.db)).size > 1;
  const n = (v: number | null) => (v === null ? out.c.dim('-') : formatCount(v));
  const head = ['queue', 'system', ...(dbs ? ['db'] : []), 'waiting', 'active', 'delayed', 'retry', 'dead', 'completed', 'oldest'];
  if (rates) head.push('waiting/s', 'done/s');
  const first = dbs ? 3 : 2;
  return renderTable(out, {
    head,
    right: head.map((_, i) => i).filter((i) => i >= first),
    rows: queues.map((q) => {
      const r = rates?.get(q);
      return [
        q.name, q.system, ...(dbs ? [q.db] : []), n(q.waiting), n(q.active), n(q.delayed), n(q.retry),
        q.dead ? out.c.red(formatCount(q.dead)) : n(q.dead), n(q.completed),
        q.oldestWaitingAgeSec === null ? out.c.dim('-') : formatDuration(q.oldestWaitingAgeSec * 1000),
        ...(rates ? [r?.waitingPerSec ?? '-', r?.finishedPerSec ?? '-'] : []),
      ];
    }),
  });
}

export function renderQueuePrometheus(queues: QueueInfo[], nowSec: number): string {
  const f = queueFamilies(queues);
  f.gauge('redis_ops_queue_last_run_timestamp_seconds', 'When redis-ops last read the queues.', {}, nowSec);
  return renderExposition(f.list());
}
