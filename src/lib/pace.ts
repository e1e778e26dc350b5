/**
 * Keeps a stream of work at or below `perSecond` items: before each chunk,
 * wait until the chunk's share of the budget has accrued. Chunks are at most
 * a tenth of a second of work, so the rate holds over short windows too.
 */
export class Pace {
  private readonly start = Date.now();
  private done = 0;

  constructor(readonly perSecond: number | undefined) {}

  /** The largest chunk to ask for at once. */
  chunk(max: number): number {
    if (!this.perSecond) return max;
    return Math.max(1, Math.min(max, Math.floor(this.perSecond / 10)));
  }

  /** Waits until `n` more items fit in the rate, then counts them. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (this.perSecond) {
      const due = this.start + (this.done / this.perSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait, signal);
    }
    this.done += n;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
