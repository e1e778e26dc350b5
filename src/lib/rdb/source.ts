import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Crc64 } from './crc64.js';

/** Thrown by a synchronous read that ran past what is buffered: the caller refills and tries again. */
export const NEED_MORE = Symbol('need more');

/**
 * The bytes of an RDB file (plain or gzip), read in chunks: parsing runs
 * synchronously over `buf` from `pos` and refills between entries (or
 * between elements of a big one), so memory stays bounded by the largest
 * piece read at once, not by the file. `offset` is the file offset of
 * `buf[0]`, for errors that say where.
 */
export class ByteSource {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** File offset of buf[0] (of the decompressed stream for a .gz). */
  base = 0;
  private readonly crc = new Crc64();
  /** Bytes of buf already fed to the checksum. */
  private summed = 0;
  private ended = false;
  private readonly iter: AsyncIterator<Buffer>;
  private checksumOn = true;

  private constructor(readonly stream: Readable, readonly name: string) {
    this.iter = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** A file, or stdin for "-"; gzip is recognised by its magic bytes. */
  static async open(path: string, stdin: Readable): Promise<ByteSource> {
    const raw = path === '-' ? stdin : createReadStream(path, { highWaterMark: 1 << 20 });
    // Peek at the first two bytes without losing them.
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
    const gz = first !== null && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    const name = path === '-' ? 'stdin' : path;
    return new ByteSource(gz ? raw.pipe(createGunzip()) : raw, name);
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

  /** Reads more, keeping the unread part; false at the end of input. */
  async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.iter.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.sum();
    const rest = this.buf.subarray(this.pos);
    this.base += this.pos;
    this.buf = rest.length ? Buffer.concat([rest, r.value]) : r.value;
    this.summed = 0;
    this.pos = 0;
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
    this.stream.destroy();
  }
}
