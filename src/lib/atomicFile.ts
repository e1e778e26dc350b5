import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { outputPlace } from './outputPath.js';

/**
 * Writes a file completely under a temporary name in the same directory, then
 * renames it into place: readers (node_exporter, the next cron run) never see
 * a half-written file. Replacing the file is the contract (each run writes the
 * latest figures); a FIFO or a device at the path is written into instead,
 * and a directory or a symbolic link is refused (see outputPlace).
 *
 * The mode is 0644 by default: node_exporter, which reads these files, runs
 * as another user, and they hold figures, not data.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644, flag = '--prom-file'): void {
  const place = outputPlace(path, flag, { replace: true });
  if (place.kind === 'stdout') throw new UsageError(`${flag}: - (stdout) is not possible here: name a file`);
  if (place.kind === 'special') {
    try {
      writeFileSync(path, content);
    } catch (e) {
      throw new UsageError(`${flag}: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    // wx: never through a file or link someone left at the temporary name.
    writeFileSync(tmp, content, { mode, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`${flag}: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
