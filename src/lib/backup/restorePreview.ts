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
    // One pipeline of EXISTS per slot: a cluster answers a pipeline only for keys of one slot.
    const groups = new Map<string, { target: Target; keys: Buffer[] }>();
    for (const { target, key } of batch) {
      const id = `${target.db}:${target.slotOf(key)}`;
      const g = groups.get(id);
      if (g) g.keys.push(key);
      else groups.set(id, { target, keys: [key] });
    }
    await Promise.all([...groups.values()].map(async ({ target, keys }) => {
      const p = target.client.pipeline();
      for (const k of keys) p.exists(k);
      const replies = (await p.exec()) ?? [];
      const changes: Buffer[] = [];
      replies.forEach(([err, n], i) => {
        if (err) throw target.fail(err);
        const exists = Number(n) === 1;
        if (exists && this.opts.mode !== 'replace') this.summary.skipped++;
        else {
          if (exists) this.summary.replaced++;
          else this.summary.created++;
          changes.push(keys[i]!);
        }
      });
      // Only what the real run would change counts against --limit, as there.
      await this.rails.record(changes.map((key) => ({ key, action: 'restore', db: target.db })));
    }));
  }
}
