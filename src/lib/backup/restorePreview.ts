import type { Target } from '../connect/target.js';
import type { KeyRecord } from './format.js';
import { RestoreRun } from './restoreRun.js';

/**
 * A dry run of a restore: read-only. Which keys exist decides created,
 * replaced or skipped, checked a batch at a time (one pipeline of EXISTS);
 * the admitted keys go to the change count (--limit) as the real run's would.
 */
export class RestorePreview extends RestoreRun {
  private pending: { target: Target; key: Buffer }[] = [];

  protected async place(target: Target, r: KeyRecord, key: Buffer, expireAt: number): Promise<void> {
    this.pending.push({ target, key });
    if (this.pending.length >= 500) await this.flush();
    // A big key's later parts are read past, not written.
    if (r.more) this.big = { target, record: r, key, temp: '', expireAt, skip: true };
  }

  protected async writePart(): Promise<void> {
    throw new Error('a dry run writes no parts');
  }

  protected async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    const byTarget = new Map<Target, Buffer[]>();
    for (const { target, key } of batch) byTarget.set(target, [...(byTarget.get(target) ?? []), key]);
    for (const [target, keys] of byTarget) {
      const p = target.client.pipeline();
      for (const k of keys) p.exists(k);
      const replies = (await p.exec()) ?? [];
      replies.forEach(([err, n]) => {
        if (err) throw target.fail(err);
        const exists = Number(n) === 1;
        if (exists && this.opts.mode !== 'replace') this.summary.skipped++;
        else if (exists) this.summary.replaced++;
        else this.summary.created++;
      });
      await this.rails.record(keys.map((key) => ({ key, action: 'restore', db: target.db })));
    }
  }
}
