import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decodeIntset, decodeListpack, decodeZiplist, decodeZipmap, PackedError } from '../../src/lib/rdb/packed.js';
import { lzfDecompress, LzfError } from '../../src/lib/rdb/lzf.js';
import { Crc64 } from '../../src/lib/rdb/crc64.js';
import { RdbError } from '../../src/lib/rdb/parser.js';
import { scanRdb } from '../../src/lib/rdb/analyze.js';
import { jemallocSize } from '../../src/lib/rdb/memory.js';

// Hostile bytes: every decoder either decodes or throws its own error naming
// what was wrong; never a TypeError, a RangeError or a hang.
let seed = 42;
const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;

const listpack = Buffer.from([12, 0, 0, 0, 2, 0, 0x81, 0x61, 2, 0x05, 1, 0xff]);
const ziplist = Buffer.from([16, 0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 1, 0x61, 3, 0xf3, 0xff]);

describe('packed encodings', () => {
  it('decode what Redis writes', () => {
    expect(decodeListpack(listpack).map(String)).toEqual(['a', '5']);
    expect(decodeZiplist(ziplist).map(String)).toEqual(['a', '2']);
    expect(decodeZipmap(Buffer.from([1, 1, 0x61, 1, 0, 0x62, 0xff])).map(String)).toEqual(['a', 'b']);
    expect(decodeIntset(Buffer.from([2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0xff, 0xff])).map(String)).toEqual(['1', '-1']);
  });

  it.each([['listpack', decodeListpack, listpack], ['ziplist', decodeZiplist, ziplist], ['intset', decodeIntset, Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 7, 0])], ['zipmap', decodeZipmap, Buffer.from([1, 1, 0x61, 1, 0, 0x62, 0xff])]] as const)(
    '%s: 3,000 mutated and truncated blobs are decoded or refused with PackedError', (_n, decode, good) => {
      for (let i = 0; i < 3000; i++) {
        const b = Buffer.from(good.subarray(0, rand(good.length + 1)));
        for (let k = 0; k < 1 + rand(3); k++) if (b.length) b[rand(b.length)] = rand(256);
        try {
          expect(Array.isArray(decode(b))).toBe(true);
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(PackedError);
        }
      }
    });
});

describe('LZF and CRC-64', () => {
  it('random input is decompressed to the declared length or refused', () => {
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(Array.from({ length: rand(40) }, () => rand(256)));
      const out = 1 + rand(80);
      try {
        expect(lzfDecompress(b, out, () => 'x').length).toBe(out);
      } catch (e) {
        expect(e).toBeInstanceOf(LzfError);
      }
    }
  });

  it('CRC-64 (Jones) of "123456789" is e9c6d914c4b8d9ca, as Redis\'s crc64 test says', () => {
    const c = new Crc64();
    c.update(Buffer.from('123456789'));
    expect(c.digest().readBigUInt64LE().toString(16)).toBe('e9c6d914c4b8d9ca');
  });

  it('jemalloc size classes', () => {
    expect([1, 8, 9, 17, 33, 49, 65, 80, 81, 113, 129, 161, 600, 1025, 5000].map(jemallocSize)).toEqual([8, 8, 16, 32, 48, 64, 80, 80, 96, 128, 160, 192, 640, 1280, 5120]);
  });
});

describe('a whole file, mutated', () => {
  it('300 files with bytes flipped: each is read or refused with RdbError', async () => {
    const good = readFileSync(join(import.meta.dirname, '../fixtures/rdb/encodings.rdb'));
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 1 + rand(4); k++) b[9 + rand(b.length - 9)] = rand(256);
      try {
        await scanRdb('-', Readable.from([b]), {}, () => undefined);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(RdbError);
      }
    }
  });
});

describe('CRC-64 eight bytes at a time', () => {
  // The definition, a bit at a time (crc64.c's _crc64): what the tables must reproduce.
  function reference(b: Uint8Array): bigint {
    const poly = 0x95ac9329ac4bc9b5n;
    let c = 0n;
    for (const x of b) {
      c ^= BigInt(x);
      for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    }
    return c;
  }

  it('equals the bitwise definition for every length 0–70 and any split of the input', () => {
    for (let len = 0; len <= 70; len++) {
      const b = Buffer.from(Array.from({ length: len }, () => rand(256)));
      const split = rand(len + 1);
      const c = new Crc64();
      c.update(b, 0, split);
      c.update(b, split, len);
      expect(c.digest().readBigUInt64LE(), `length ${len}, split at ${split}`).toBe(reference(b));
    }
  });
});

describe('jemalloc size classes by bit count', () => {
  // The definition: 4 classes per doubling above 64 bytes, found with log2.
  const byLog = (n: number) => {
    if (n <= 8) return 8;
    if (n <= 64) return Math.ceil(n / 16) * 16;
    const step = 2 ** Math.floor(Math.log2(n - 1)) / 4;
    return Math.ceil(n / step) * step;
  };
  it('agrees with log2 for every size to 70,000 and around each power of two to 2^40', () => {
    for (let n = 1; n <= 70_000; n++) expect(jemallocSize(n), `size ${n}`).toBe(byLog(n));
    for (let b = 16; b <= 40; b++) for (const d of [-1, 0, 1, 2]) expect(jemallocSize(2 ** b + d), `size 2^${b}${d >= 0 ? '+' : ''}${d}`).toBe(byLog(2 ** b + d));
  });
});
