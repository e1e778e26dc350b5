/**
 * Redis's CRC-64 (Jones polynomial, reflected, init 0): the checksum an RDB
 * file ends with (crc64.c). Kept as two 32-bit halves: BigInt per byte would
 * cost more than the rest of the parse.
 */
const LO = new Uint32Array(256);
const HI = new Uint32Array(256);
{
  const poly = 0x95ac9329ac4bc9b5n; // 0xad93d23594c935a9 reflected
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    LO[i] = Number(c & 0xffffffffn);
    HI[i] = Number(c >> 32n);
  }
}

export class Crc64 {
  private lo = 0;
  private hi = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): void {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = start; i < end; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      lo = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ LO[idx]!) >>> 0;
      hi = ((hi >>> 8) ^ HI[idx]!) >>> 0;
    }
    this.lo = lo;
    this.hi = hi;
  }

  /** The checksum as Redis stores it: 8 bytes, little-endian. */
  digest(): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(this.lo, 0);
    b.writeUInt32LE(this.hi, 4);
    return b;
  }
}
