/**
 * Reads the MessagePack that Redis's Lua `cmsgpack.pack` writes (arrays,
 * integers, strings; nil and booleans), in place: a string is left as its
 * bounds in the buffer, so a reply of thousands of values costs no
 * allocation per value. The backup's read script replies this way.
 */
export class PackedReader {
  /** Bounds of the last string read by str(). */
  start = 0;
  end = 0;

  constructor(readonly buf: Buffer, public at = 0) {}

  /** The length of the array at the cursor. */
  array(): number {
    const b = this.buf;
    const t = b[this.at++]!;
    if (t >= 0x90 && t <= 0x9f) return t & 0x0f;
    if (t === 0xdc) return this.u16();
    if (t === 0xdd) return this.u32();
    throw this.unexpected(t!, 'an array');
  }

  /** The integer at the cursor (nil reads as -1). */
  int(): number {
    const b = this.buf;
    const t = b[this.at++]!;
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    switch (t) {
      case 0xc0: return -1;
      case 0xcc: return b[this.at++]!;
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      // 64-bit integers (expiry times in ms) as two halves: no BigInt per value.
      case 0xcf: { const v = b.readUInt32BE(this.at) * 0x100000000 + b.readUInt32BE(this.at + 4); this.at += 8; return v; }
      case 0xd0: { const v = b.readInt8(this.at); this.at += 1; return v; }
      case 0xd1: { const v = b.readInt16BE(this.at); this.at += 2; return v; }
      case 0xd2: { const v = b.readInt32BE(this.at); this.at += 4; return v; }
      case 0xd3: { const v = b.readInt32BE(this.at) * 0x100000000 + b.readUInt32BE(this.at + 4); this.at += 8; return v; }
      case 0xcb: { const v = b.readDoubleBE(this.at); this.at += 8; return v; }
      case 0xca: { const v = b.readFloatBE(this.at); this.at += 4; return v; }
      default: throw this.unexpected(t!, 'an integer');
    }
  }

  /** Whether the value at the cursor is a string. */
  isStr(): boolean {
    const t = this.buf[this.at]!; // past the end: undefined, which no comparison matches
    return (t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb) || (t >= 0xc4 && t <= 0xc6);
  }

  /** Reads the string at the cursor, leaving its bounds in start and end. */
  str(): void {
    const b = this.buf;
    const t = b[this.at++]!;
    let len: number;
    if (t >= 0xa0 && t <= 0xbf) len = t & 0x1f;
    else if (t === 0xd9 || t === 0xc4) len = b[this.at++]!;
    else if (t === 0xda || t === 0xc5) len = this.u16();
    else if (t === 0xdb || t === 0xc6) len = this.u32();
    else throw this.unexpected(t!, 'a string');
    this.start = this.at;
    this.end = this.at += len;
    if (this.end > b.length) throw new Error('packed reply: truncated');
  }

  /** The string at the cursor, as text. */
  text(): string {
    this.str();
    return this.buf.toString('utf8', this.start, this.end);
  }

  /** Steps over the value at the cursor, whatever it is. */
  skip(): void {
    const t = this.buf[this.at]!;
    if (this.isStr()) this.str();
    else if ((t >= 0x90 && t <= 0x9f) || t === 0xdc || t === 0xdd) {
      for (let n = this.array(); n > 0; n--) this.skip();
    } else if (t === 0xc2 || t === 0xc3) this.at++;
    else this.int();
  }

  private u16(): number {
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  private u32(): number {
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  private unexpected(t: number, what: string): Error {
    return new Error(`packed reply: byte 0x${t?.toString(16)} at ${this.at - 1} where ${what} was expected`);
  }
}
