import { createWriteStream, fsync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import { UsageError } from '../../errors.js';
import type { OutputPlace } from '../outputPath.js';
import { LineHash, type Header } from './format.js';

/** Where records go: a backup file, or (for diff) a digest per key. */
export interface RecordSink {
  header(h: Header): Promise<void>;
  /** Complete record lines (each ending in a newline), as LineWriter builds them. */
  lines(chunk: Buffer, count: number): Promise<void>;
  /** Everything recorded so far is on disk (for callers about to change what they recorded). */
  sync?(): Promise<void>;
  readonly records: number;
  readonly byteCount: number;
}

/**
 * Where a backup goes: a new regular file written under a temporary name
 * (renamed when complete), a FIFO or device written into directly, or stdout.
 */
export class BackupSink implements RecordSink {
  private readonly hash = new LineHash();
  private bytes = 0;
  private readonly stream: WriteStream | NodeJS.WriteStream;
  private readonly gzip: Gzip | null;
  private readonly tmp: string | null;
  private readonly path: string;

  /** `place` comes from outputPlace: the caller has decided whether an existing file may be replaced. */
  constructor(place: OutputPlace, gzip: boolean, stdout: NodeJS.WriteStream = process.stdout) {
    this.gzip = gzip ? createGzip({ level: 6 }) : null;
    if (place.kind === 'stdout') {
      this.path = '-';
      this.tmp = null;
      this.stream = stdout;
      // The reader left: fail the writes waiting on gzip too, instead of waiting for ever.
      if (this.gzip) stdout.once('error', (e) => this.gzip!.destroy(e));
    } else if (place.kind === 'special') {
      this.path = place.path;
      this.tmp = null;
      this.stream = createWriteStream(place.path, { flags: 'w', highWaterMark: 1 << 22 });
    } else {
      this.path = place.path;
      this.tmp = `${place.path}.partial-${process.pid}`;
      // Backups hold secrets: owner-only from the first byte; wx: never through a link.
      // A deep buffer: the walk goes on while the file system catches up.
      this.stream = createWriteStream(this.tmp, { mode: 0o600, flags: 'wx', highWaterMark: 1 << 22 });
    }
    if (this.gzip) this.gzip.pipe(this.stream as NodeJS.WritableStream);
  }

  async open(): Promise<void> {
    if (this.path === '-') return;
    const s = this.stream as WriteStream;
    await new Promise<void>((resolve, reject) => {
      s.once('open', () => resolve());
      s.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`-o: cannot write ${this.path} (${e.code ?? e.message})`)));
    });
  }

  get records(): number {
    return this.hash.lines - 1; // minus the header
  }

  get byteCount(): number {
    return this.bytes;
  }

  async header(h: Header): Promise<void> {
    await this.lines(Buffer.from(`${JSON.stringify(h)}\n`), 1);
  }

  async lines(chunk: Buffer, count: number): Promise<void> {
    this.hash.addChunk(chunk, count);
    this.bytes += chunk.length;
    const w = (this.gzip ?? this.stream) as NodeJS.WritableStream;
    if (!w.write(chunk)) await once(w as unknown as NodeJS.EventEmitter, 'drain');
  }

  /**
   * Puts every record so far on disk: through gzip (a sync flush), through
   * the file stream, then fsync. `ttl cleanup --backup` calls it before it
   * changes the keys it has just backed up, so a crash never loses one.
   */
  async sync(): Promise<void> {
    if (this.gzip) await new Promise<void>((resolve) => this.gzip!.flush(() => resolve()));
    await new Promise<void>((resolve, reject) => (this.stream as NodeJS.WritableStream).write('', (e?: Error | null) => (e ? reject(e) : resolve())));
    const fd = this.path !== '-' ? (this.stream as unknown as { fd?: number }).fd : null;
    if (typeof fd === 'number') await new Promise<void>((resolve) => fsync(fd, () => resolve()));
  }

  /** Writes the trailer, flushes, and moves the file to its final name. */
  async finish(): Promise<void> {
    const records = this.records;
    const text = JSON.stringify({ trailer: true, records, sha256: this.hash.digest() });
    const w = (this.gzip ?? this.stream) as NodeJS.WritableStream;
    this.bytes += Buffer.byteLength(text) + 1;
    w.write(`${text}\n`);
    if (this.path !== '-') {
      await new Promise<void>((resolve, reject) => {
        this.stream.once('error', reject);
        this.stream.once('finish', () => resolve());
        w.end();
      });
      if (this.tmp) renameSync(this.tmp, this.path);
    } else {
      // Wait until the trailer has left: a reader that is gone by now makes the backup incomplete.
      await new Promise<void>((resolve, reject) => {
        if (this.gzip) {
          this.gzip.once('error', reject);
          this.gzip.end(() => this.stream.write('', (e?: Error | null) => (e ? reject(e) : resolve())));
        } else this.stream.write('', (e?: Error | null) => (e ? reject(e) : resolve()));
      });
    }
  }

  /** Where the finished backup is: the file's name, or - for stdout. */
  get destination(): string {
    return this.path;
  }

  /** An interrupted or failed backup leaves nothing at the final name (nor a partial file). */
  abort(): void {
    if (this.path === '-') return;
    (this.stream as WriteStream).destroy();
    if (this.tmp) rmSync(this.tmp, { force: true });
  }
}

