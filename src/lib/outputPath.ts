import { lstatSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * Where a command may write a file it was given. A path is never replaced by
 * something of another kind: a FIFO or a character device (/dev/stdout, a
 * named pipe into gzip) is written into as it is; a directory, a socket, a
 * block device or a symbolic link is refused; an existing regular file is
 * replaced only when the caller allows it (--force).
 */
export type OutputPlace =
  | { kind: 'stdout' }
  | { kind: 'special'; path: string }
  | { kind: 'file'; path: string };

export function outputPlace(path: string, flag: string, opts: { replace: boolean }): OutputPlace {
  if (path === '-') return { kind: 'stdout' };
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'file', path };
    throw new UsageError(`${flag}: cannot use ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (st.isSymbolicLink()) throw new UsageError(`${flag}: ${path} is a symbolic link: name the file itself (a link can point anywhere)`);
  if (st.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory: name a file in it`);
  if (st.isFIFO() || st.isCharacterDevice()) return { kind: 'special', path };
  if (!st.isFile()) throw new UsageError(`${flag}: ${path} is not a regular file, a FIFO or a character device`);
  if (!opts.replace) throw new UsageError(`${flag}: ${path} exists: pass --force to replace it`);
  return { kind: 'file', path };
}
