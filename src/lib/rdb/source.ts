import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Crc64 } from './crc64.js';

/** Thrown by a synchronous read that ran past what is buffered: the caller refills and tries again. */
export const NEED_MORE = Symbol('need more');

/** Bytes asked of a file per read. */
const READ_SIZE = 1 << 20;

/** Where the bytes come from: reads into the work buffer at `at`; 0 at the end. */
interface Input {
  readInto(src: ByteSource, at: number): Promise<number>;
  close(): void;
}

/**
 * The bytes of an RDB file (plain or gzip), read in chunks: parsing runs
 * synchronously over `buf` from `pos` and refills between entries (or
 * between elements of a big one), so memory stays bounded by the largest
 * piece read at once, not by the file. `offset` is the file offset of
 * `buf[0]`, for errors that say where.
 *
 * One work buffer is reused for the whole file: a fresh megabyte per refill
 * costs more to fault in than the parsing of it (4 ms per MB measured here,
 * against ~0.1 ms to copy into memory already touched). So a view returned
 * by `bytes()` is valid only until the next `fill()`: `beforeReuse` runs
 * first, for the parser to copy the views it still holds.
 */
export class ByteSource {
  buf: Buffer;
  pos = 0;
  /** File offset of buf[0] (of the decompressed stream for a .gz). */
  base = 0;
  /** Called before a refill moves the bytes that earlier views point into. */
  beforeReuse: (() => void) | null = null;
  /** The buffer `buf` is the filled front of. */
  work: Buffer;
  private readonly crc = new Crc64();
  /** Bytes of buf already fed to the checksum. */
  private summed = 0;
  private ended = false;
  private checksumOn = true;

  private constructor(private readonly input: Input, readonly name: string) {
    this.work = Buffer.allocUnsafe(READ_SIZE);
    this.buf = this.work.subarray(0, 0);
  }

  /** A file, or stdin for "-"; gzip is recognised by its magic bytes. */
  static async open(path: string, stdin: Readable): Promise<ByteSource> {
    const name = path === '-' ? 'stdin' : path;
    let raw = stdin;
    if (path !== '-') {
      const fh = await open(path, 'r');
      try {
        // A regular file is read straight into the work buffer; a FIFO, a device or a .gz as a stream.
        if ((await fh.stat()).isFile()) {
          const magic = Buffer.alloc(2);
          const { bytesRead } = await fh.read(magic, 0, 2, 0);
          if (!(bytesRead === 2 && isGzip(magic))) return new ByteSource(fileInput(fh), name);
        }
      } catch (e) {
        await fh.close();
        throw e;
      }
      // The same descriptor: a FIFO opened twice would lose what its writer sent to the first.
      raw = fh.createReadStream({ highWaterMark: READ_SIZE });
    }
    const first = await peek(raw);
    const gz = first !== null && isGzip(first);
    return new ByteSource(streamInput(gz ? raw.pipe(createGunzip()) : raw), name);
  }

  get offset(): number {
    return this.base + this.pos;
  }

  get available(): number {
    return this.buf.length - this.pos;
  }

  get atEnd(): boolean {
    return this.ended && this.pos >= this.buf.length;
  }

  /** Room for `n` bytes after the first `keep` of the work buffer (those are kept). */
  reserve(keep: number, n: number): void {
    if (keep + n <= this.work.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(keep + n, this.work.length * 2));
    this.work.copy(bigger, 0, 0, keep);
    this.work = bigger;
  }

  /** Reads more, keeping the unread part; false at the end of input. */
  async fill(): Promise<boolean> {
    if (this.ended) return false;
    this.sum();
    this.beforeReuse?.();
    const rest = this.buf.length - this.pos;
    // The unread part moves to the front of the work buffer; the read lands after it.
    if (this.pos > 0) this.work.copy(this.work, 0, this.pos, this.buf.length);
    this.base += this.pos;
    this.pos = 0;
    this.summed = 0;
    this.buf = this.work.subarray(0, rest);
    const n = await this.input.readInto(this, rest);
    if (n === 0) {
      this.ended = true;
      return false;
    }
    this.buf = this.work.subarray(0, rest + n);
    return true;
  }

  /** Ensures `n` bytes are buffered; false when the input ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.available < n) if (!(await this.fill())) return false;
    return true;
  }

  /** Feeds what has been read so far to the checksum. */
  private sum(): void {
    if (this.checksumOn && this.pos > this.summed) {
      this.crc.update(this.buf, this.summed, this.pos);
      this.summed = this.pos;
    }
  }

  /** The checksum of everything read up to `pos`; stops summing (what follows is the checksum itself). */
  checksum(): Buffer {
    this.sum();
    this.checksumOn = false;
    return this.crc.digest();
  }

  // Synchronous reads over the buffer: throw NEED_MORE past its end.
  u8(): number {
    if (this.pos >= this.buf.length) throw NEED_MORE;
    return this.buf[this.pos++]!;
  }

  /** A view of the next n bytes: valid until the next fill(). */
  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw NEED_MORE;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Moves past n bytes without making a view of them. */
  skip(n: number): void {
    if (this.pos + n > this.buf.length) throw NEED_MORE;
    this.pos += n;
  }

  close(): void {
    this.input.close();
  }
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function fileInput(fh: FileHandle): Input {
  return {
    async readInto(src, at) {
      src.reserve(at, READ_SIZE);
      const { bytesRead } = await fh.read(src.work, at, src.work.length - at, null);
      return bytesRead;
    },
    close() {
      void fh.close().catch(() => undefined);
    },
  };
}

function streamInput(stream: Readable): Input {
  const iter = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    async readInto(src, at) {
      let r = await iter.next();
      while (!r.done && r.value.length === 0) r = await iter.next();
      if (r.done) return 0;
      src.reserve(at, r.value.length);
      r.value.copy(src.work, at);
      return r.value.length;
    },
    close() {
      stream.destroy();
    },
  };
}

/** The first chunk of a stream, put back: enough to see the gzip magic. */
async function peek(raw: Readable): Promise<Buffer | null> {
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const onReadable = () => {
      const chunk = raw.read() as Buffer | null;
      if (chunk === null && !raw.readableEnded) return;
      cleanup();
      resolve(chunk);
    };
    const onEnd = () => { cleanup(); resolve(null); };
    const onError = (e: Error) => { cleanup(); reject(e); };
    const cleanup = () => { raw.off('readable', onReadable); raw.off('end', onEnd); raw.off('error', onError); };
    raw.on('readable', onReadable);
    raw.once('end', onEnd);
    raw.once('error', onError);
  });
  if (first) raw.unshift(first);
  return first;
}
