import { isUtf8 } from 'node:buffer';

/** A writer hands its lines on once it holds this much. */
export const LINES_CHUNK = 1 << 18;

const HEX = '0123456789abcdef';
/** JSON.stringify's short escapes, by byte. */
const SHORT: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };

/**
 * Backup record lines built as bytes, straight from the bytes the server
 * sent: the same bytes recordLine gives for the same record (a unit test
 * holds the two equal), without a string or an object per key. The backup
 * writes every record through it.
 */
export class LineWriter {
  private buf = Buffer.allocUnsafe(LINES_CHUNK * 2);
  private pos = 0;
  private count = 0;

  /** Bytes held. */
  get size(): number {
    return this.pos;
  }

  /** The complete lines held (with their count), leaving the writer empty. */
  take(): { chunk: Buffer; lines: number } {
    const out = { chunk: this.buf.subarray(0, this.pos), lines: this.count };
    this.buf = Buffer.allocUnsafe(Math.max(LINES_CHUNK * 2, this.buf.length));
    this.pos = 0;
    this.count = 0;
    return out;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Text known to be ASCII without anything to escape: field names, numbers, punctuation. */
  ascii(s: string): void {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** Any text, as UTF-8 (a whole line already in JSON). */
  text(s: string): void {
    this.room(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  endLine(): void {
    this.room(1);
    this.buf[this.pos++] = 0x0a;
    this.count++;
  }

  /** A key name: `"key":"…"` when it is valid UTF-8, else `"key64":"…"` (keyJson, then JSON). */
  key(src: Buffer, start: number, end: number): void {
    const mark = this.pos;
    this.ascii('"key":');
    if (this.jsonString(src, start, end)) return;
    this.pos = mark;
    this.ascii(`"key64":"${src.toString('base64', start, end)}"`);
  }

  /** A byte string: a JSON string when it is valid UTF-8, else {"b64":"…"} (bytesJson, then JSON). */
  bytes(src: Buffer, start: number, end: number): void {
    if (!this.jsonString(src, start, end)) this.ascii(`{"b64":"${src.toString('base64', start, end)}"}`);
  }

  /**
   * Writes src[start…end) as a JSON string with JSON.stringify's escapes, or
   * writes nothing and returns false when the bytes are not valid UTF-8.
   */
  private jsonString(src: Buffer, start: number, end: number): boolean {
    this.room(end - start + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    let i = start;
    // Most bytes are printable ASCII: copied as they are.
    for (; i < end; i++) {
      const c = src[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) break;
      buf[p++] = c;
    }
    if (i < end) {
      let high = false;
      for (let j = i; j < end; j++) if (src[j]! > 0x7f) { high = true; break; }
      if (high && !isUtf8(src.subarray(start, end))) return false;
      this.pos = p;
      this.room((end - i) * 6 + 1);
      const out = this.buf;
      for (; i < end; i++) {
        const c = src[i]!;
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) out[p++] = c;
        else if (c === 0x22 || c === 0x5c) {
          out[p++] = 0x5c;
          out[p++] = c;
        } else if (SHORT[c] !== undefined) {
          out[p++] = 0x5c;
          out[p++] = SHORT[c]!;
        } else {
          p += out.write(`\\u00${HEX[c >> 4]}${HEX[c & 15]}`, p, 'latin1');
        }
      }
    }
    this.buf[p++] = 0x22;
    this.pos = p;
    return true;
  }
}
