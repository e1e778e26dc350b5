import { formatCount } from './table.js';

/**
 * The progress line of a long walk, on a terminal: percent, count, rate and
 * time left when the total is known (DBSIZE, a verified file's key count),
 * count and rate otherwise. Rates are measured from the start of the walk.
 */
export class ProgressMeter {
  private readonly started = Date.now();

  constructor(private readonly total: number | null, private readonly unit = 'keys') {}

  text(done: number, extra = ''): string {
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const parts: string[] = [];
    if (this.total) {
      parts.push(`${Math.min(100, Math.floor((done / this.total) * 100))}%`, `${formatCount(done)} of ~${formatCount(this.total)} ${this.unit}`);
    } else parts.push(`${formatCount(done)} ${this.unit}`);
    parts.push(`${formatCount(rate)}/s`);
    if (this.total && rate > 0 && this.total > done) parts.push(`ETA ${formatSeconds((this.total - done) / rate)}`);
    if (extra) parts.push(extra);
    return parts.join(' · ');
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
