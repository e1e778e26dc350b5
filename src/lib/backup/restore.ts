import { InputError, withDetail } from '../../errors.js';
import type { Target } from '../connect/target.js';
import type { Rails } from '../rails.js';
import type { Header } from './format.js';
import { readBackup, readBackupLines } from './reader.js';
import { KeyWriter } from './restoreWriter.js';
import { RestorePreview } from './restorePreview.js';
import type { RestoreOptions, RestoreRun } from './restoreRun.js';

export type { ExistingMode, RestoreOptions, RestoreSummary, TtlMode } from './restoreRun.js';
export type Restorer = RestoreRun;

/** The restore a run asks for: the writer, or a dry run's read-only preview. */
export function newRestorer(base: Target, opts: RestoreOptions, rails: Rails, source: string): Restorer {
  return rails.dryRun ? new RestorePreview(base, opts, rails, source) : new KeyWriter(base, opts, rails, source);
}

/**
 * Restores a file or stdin. A file that has just been verified (`verified`)
 * is applied from its raw lines; stdin (and an unverified file) is checked
 * record by record and applied as it streams.
 */
export async function restoreFrom(source: string, restorer: Restorer, onHeader: (h: Header) => void, verified = false): Promise<void> {
  let applied = 0;
  try {
    // The apply pass of a verified file: its keys were already checked once each.
    reading: for await (const batch of verified ? readBackupLines(source, onHeader, { verified: true }) : readBackup(source, onHeader)) {
      for (const item of batch) {
        if (!(await restorer.apply(item))) break reading;
        applied++;
      }
    }
    await restorer.finish();
  } catch (e) {
    // From stdin, the records before a bad line are applied (a killed run's
    // partial file restores up to where it stops).
    if (e instanceof InputError && source === '-') await restorer.finish().catch(() => undefined);
    const left = await restorer.abandon();
    const err = e instanceof Error ? e : new Error(String(e));
    if (e instanceof InputError && source === '-') throw withDetail(err, `stopped after applying ${applied} record(s)${left ? `; ${left}` : ''}`);
    throw left ? withDetail(restorer.fail(err), left) : err;
  }
}
