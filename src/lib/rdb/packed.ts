/**
 * The small packed encodings an RDB value can be a blob of: ziplist
 * (ziplist.c), listpack (listpack.c), intset (intset.c) and zipmap
 * (zipmap.c). Each decodes to its elements as the bytes Redis would return
 * for them (integers as their decimal text). Every read is bounds-checked: a
 * corrupt blob is an error naming what was expected, never a crash.
 */
export class PackedError extends Error {}

function intText(n: number | bigint): Buffer {
  return Buffer.from(String(n), 'latin1');
}

function need(blob: Buffer, at: number, n: number, what: string): void {
  if (at + n > blob.length || at < 0) throw new PackedError(`${what}: ${n} byte(s) at ${at} run past the blob's ${blob.length}`);
}

export function decodeZiplist(blob: Buffer): Buffer[] {
  need(blob, 0, 11, 'ziplist header');
  const total = blob.readUInt32LE(0);
  if (total !== blob.length) throw new PackedError(`ziplist says ${total} bytes, the blob has ${blob.length}`);
  const out: Buffer[] = [];
  let p = 10;
  for (;;) {
    need(blob, p, 1, 'ziplist entry');
    if (blob[p] === 0xff) break;
    // prevlen: 1 byte, or 0xFE and 4 bytes.
    p += blob[p] === 0xfe ? 5 : 1;
    need(blob, p, 1, 'ziplist encoding');
    const enc = blob[p]!;
    const kind = enc >> 6;
    if (kind === 0) {
      const len = enc & 0x3f;
      need(blob, p + 1, len, 'ziplist string');
      out.push(blob.subarray(p + 1, p + 1 + len));
      p += 1 + len;
    } else if (kind === 1) {
      need(blob, p, 2, 'ziplist 14-bit length');
      const len = ((enc & 0x3f) << 8) | blob[p + 1]!;
      need(blob, p + 2, len, 'ziplist string');
      out.push(blob.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    } else if (kind === 2) {
      need(blob, p, 5, 'ziplist 32-bit length');
      const len = blob.readUInt32BE(p + 1);
      need(blob, p + 5, len, 'ziplist string');
      out.push(blob.subarray(p + 5, p + 5 + len));
      p += 5 + len;
    } else if (enc === 0xc0) { need(blob, p + 1, 2, 'int16'); out.push(intText(blob.readInt16LE(p + 1))); p += 3; } else if (enc === 0xd0) { need(blob, p + 1, 4, 'int32'); out.push(intText(blob.readInt32LE(p + 1))); p += 5; } else if (enc === 0xe0) { need(blob, p + 1, 8, 'int64'); out.push(intText(blob.readBigInt64LE(p + 1))); p += 9; } else if (enc === 0xf0) { need(blob, p + 1, 3, 'int24'); out.push(intText(blob.readIntLE(p + 1, 3))); p += 4; } else if (enc === 0xfe) { need(blob, p + 1, 1, 'int8'); out.push(intText(blob.readInt8(p + 1))); p += 2; } else if (enc >= 0xf1 && enc <= 0xfd) { out.push(intText((enc & 0x0f) - 1)); p += 1; } else throw new PackedError(`ziplist: unknown entry encoding 0x${enc.toString(16)} at ${p}`);
  }
  const declared = blob.readUInt16LE(8);
  if (declared !== 0xffff && declared !== out.length) throw new PackedError(`ziplist says ${declared} entries, holds ${out.length}`);
  return out;
}

/** Bytes of a listpack entry's back-length field for an entry of `size` bytes. */
function backlenSize(size: number): number {
  return size < 128 ? 1 : size < 16384 ? 2 : size < 2097152 ? 3 : size < 268435456 ? 4 : 5;
}

/**
 * A listpack's element count from its header, after the shallow check Redis
 * itself makes (total bytes, end marker): for reports that need only the
 * count and the size. null when the header does not hold it (65535 or more
 * elements): decode then.
 */
export function listpackCount(blob: Buffer): number | null {
  need(blob, 0, 7, 'listpack header');
  if (blob.readUInt32LE(0) !== blob.length) throw new PackedError(`listpack says ${blob.readUInt32LE(0)} bytes, the blob has ${blob.length}`);
  if (blob[blob.length - 1] !== 0xff) throw new PackedError('listpack without its end marker');
  const n = blob.readUInt16LE(4);
  return n === 0xffff ? null : n;
}

export function decodeListpack(blob: Buffer): Buffer[] {
  need(blob, 0, 7, 'listpack header');
  const total = blob.readUInt32LE(0);
  if (total !== blob.length) throw new PackedError(`listpack says ${total} bytes, the blob has ${blob.length}`);
  const out: Buffer[] = [];
  let p = 6;
  for (;;) {
    need(blob, p, 1, 'listpack entry');
    const b = blob[p]!;
    if (b === 0xff) break;
    let size: number;
    if (b < 0x80) { out.push(intText(b)); size = 1; } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      need(blob, p + 1, len, 'listpack string');
      out.push(blob.subarray(p + 1, p + 1 + len));
      size = 1 + len;
    } else if ((b & 0xe0) === 0xc0) {
      need(blob, p, 2, 'listpack 13-bit int');
      let v = ((b & 0x1f) << 8) | blob[p + 1]!;
      if (v >= 1 << 12) v -= 1 << 13;
      out.push(intText(v));
      size = 2;
    } else if ((b & 0xf0) === 0xe0) {
      need(blob, p, 2, 'listpack 12-bit length');
      const len = ((b & 0x0f) << 8) | blob[p + 1]!;
      need(blob, p + 2, len, 'listpack string');
      out.push(blob.subarray(p + 2, p + 2 + len));
      size = 2 + len;
    } else if (b === 0xf0) {
      need(blob, p, 5, 'listpack 32-bit length');
      const len = blob.readUInt32LE(p + 1);
      need(blob, p + 5, len, 'listpack string');
      out.push(blob.subarray(p + 5, p + 5 + len));
      size = 5 + len;
    } else if (b === 0xf1) { need(blob, p, 3, 'int16'); out.push(intText(blob.readInt16LE(p + 1))); size = 3; } else if (b === 0xf2) { need(blob, p, 4, 'int24'); out.push(intText(blob.readIntLE(p + 1, 3))); size = 4; } else if (b === 0xf3) { need(blob, p, 5, 'int32'); out.push(intText(blob.readInt32LE(p + 1))); size = 5; } else if (b === 0xf4) { need(blob, p, 9, 'int64'); out.push(intText(blob.readBigInt64LE(p + 1))); size = 9; } else throw new PackedError(`listpack: unknown entry encoding 0x${b.toString(16)} at ${p}`);
    p += size + backlenSize(size);
    if (p > blob.length) throw new PackedError(`listpack entry at ${p - size} runs past the blob`);
  }
  const declared = blob.readUInt16LE(4);
  if (declared !== 0xffff && declared !== out.length) throw new PackedError(`listpack says ${declared} entries, holds ${out.length}`);
  return out;
}

export function decodeIntset(blob: Buffer): Buffer[] {
  need(blob, 0, 8, 'intset header');
  const width = blob.readUInt32LE(0);
  const count = blob.readUInt32LE(4);
  if (width !== 2 && width !== 4 && width !== 8) throw new PackedError(`intset: element width ${width}`);
  if (8 + width * count !== blob.length) throw new PackedError(`intset: ${count} × ${width} bytes do not fill the blob's ${blob.length - 8}`);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    out.push(intText(width === 2 ? blob.readInt16LE(at) : width === 4 ? blob.readInt32LE(at) : blob.readBigInt64LE(at)));
  }
  return out;
}

/** zipmap: field, value, field, value… (Redis < 2.6 hashes). */
export function decodeZipmap(blob: Buffer): Buffer[] {
  need(blob, 0, 1, 'zipmap header');
  const out: Buffer[] = [];
  let p = 1;
  const len = (): number => {
    need(blob, p, 1, 'zipmap length');
    const b = blob[p]!;
    if (b < 254) { p += 1; return b; }
    if (b === 254) { need(blob, p, 5, 'zipmap length'); const n = blob.readUInt32LE(p + 1); p += 5; return n; }
    throw new PackedError(`zipmap: length byte 0x${b.toString(16)} at ${p}`);
  };
  for (;;) {
    need(blob, p, 1, 'zipmap entry');
    if (blob[p] === 0xff) break;
    const klen = len();
    need(blob, p, klen, 'zipmap field');
    out.push(blob.subarray(p, p + klen));
    p += klen;
    const vlen = len();
    need(blob, p, 1, 'zipmap free');
    const free = blob[p]!;
    p += 1;
    need(blob, p, vlen + free, 'zipmap value');
    out.push(blob.subarray(p, p + vlen));
    p += vlen + free;
  }
  return out;
}
