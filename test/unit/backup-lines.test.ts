import { describe, expect, it } from 'vitest';
import { LineWriter } from '../../src/lib/backup/lineWriter.js';
import { PackedReader } from '../../src/lib/backup/packedReader.js';
import { bytesJson, makeRecord, recordLine } from '../../src/lib/backup/format.js';

/** Byte strings that take every path of the writer. */
const SAMPLES: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from('plain ascii: user:17 {"id":1}'),
  Buffer.from('quote " and backslash \\ and slash /'),
  Buffer.from(Array.from({ length: 32 }, (_, i) => i)), // every control character
  Buffer.from([0x7f, 0x41]),
  Buffer.from('ünïcödé € 𝄞 and a tab\t'),
  Buffer.from('\u2028\u2029'),
  Buffer.from([0xff]),
  Buffer.from([0x41, 0x00, 0xff, 0xfe, 0x0a]),
  Buffer.from([0xc0, 0x80]), // overlong NUL
  Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
  Buffer.from([0xe2, 0x82]), // a truncated sequence
  Buffer.from('x'.repeat(70_000) + '"'), // longer than the writer's first buffer holds after escaping
];

function written(fill: (w: LineWriter) => void): string {
  const w = new LineWriter();
  fill(w);
  return w.take().chunk.toString('utf8');
}

describe('LineWriter', () => {
  it('writes a byte string as JSON.stringify(bytesJson(…)) would', () => {
    for (const b of SAMPLES) expect(written((w) => w.bytes(b, 0, b.length))).toBe(JSON.stringify(bytesJson(b)));
  });

  it('writes a key as recordLine does: "key" for UTF-8, "key64" otherwise', () => {
    for (const b of SAMPLES) {
      const line = recordLine(makeRecord(b, 0, 'string', null, 1, ''));
      const head = line.slice(1, line.indexOf(',"db":'));
      expect(written((w) => w.key(b, 0, b.length))).toBe(head);
    }
  });

  it('writes part of a buffer, and counts and hands on whole lines', () => {
    const src = Buffer.from('--abc--');
    const w = new LineWriter();
    w.byte(0x7b);
    w.key(src, 2, 5);
    w.ascii(',"n":1');
    w.byte(0x7d);
    w.endLine();
    w.text('{"é":2}');
    w.endLine();
    expect(w.size).toBe(29);
    const { chunk, lines } = w.take();
    expect(chunk.toString()).toBe('{"key":"abc","n":1}\n{"é":2}\n');
    expect(lines).toBe(2);
    expect(w.size).toBe(0);
    expect(w.take().lines).toBe(0);
  });
});

describe('PackedReader', () => {
  it('reads what Lua cmsgpack writes: arrays, integers of every width, strings, nil', () => {
    const str16 = Buffer.concat([Buffer.from([0xda, 0x01, 0x00]), Buffer.alloc(256, 0x61)]);
    const packed = Buffer.concat([
      Buffer.from([0x99]), // an array of 9
      Buffer.from([0x05, 0xff, 0xcc, 0xc8, 0xcd, 0x12, 0x34]), // 5, -1, 200, 0x1234
      Buffer.from([0xcf, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]), // 1700000000000
      Buffer.from([0xd0, 0x80]), // -128
      Buffer.from([0xa3, 0x61, 0x62, 0x63]), // "abc"
      str16,
      Buffer.from([0xdc, 0x00, 0x02, 0xc0, 0xd9, 0x01, 0x7a]), // [nil, "z"]
    ]);
    const r = new PackedReader(packed);
    expect(r.array()).toBe(9);
    expect([r.int(), r.int(), r.int(), r.int(), r.int(), r.int()]).toEqual([5, -1, 200, 0x1234, 1_700_000_000_000, -128]);
    expect(r.isStr()).toBe(true);
    expect(r.text()).toBe('abc');
    r.str();
    expect([r.start, r.end - r.start]).toEqual([packed.indexOf(0xda) + 3, 256]);
    expect(r.array()).toBe(2);
    expect(r.isStr()).toBe(false);
    expect(r.int()).toBe(-1);
    expect(r.text()).toBe('z');
    expect(r.at).toBe(packed.length);
  });

  it('skips nested values, and refuses what it does not expect', () => {
    const r = new PackedReader(Buffer.from([0x92, 0x92, 0xa1, 0x61, 0x01, 0xc3, 0x07]));
    r.skip();
    expect(r.int()).toBe(7);
    expect(() => new PackedReader(Buffer.from([0x81])).array()).toThrow(/0x81 at 0 where an array/);
    expect(() => new PackedReader(Buffer.from([0xa5, 0x61])).str()).toThrow(/truncated/);
  });
});

describe('PackedReader 64-bit integers', () => {
  it('reads uint64 and int64 exactly up to 2^53', () => {
    const u = Buffer.alloc(9);
    u[0] = 0xcf;
    u.writeBigUInt64BE(2n ** 53n - 1n, 1);
    expect(new PackedReader(u).int()).toBe(2 ** 53 - 1);
    const i = Buffer.alloc(9);
    i[0] = 0xd3;
    for (const v of [-1n, -(2n ** 40n) - 7n, 2n ** 33n + 5n]) {
      i.writeBigInt64BE(v, 1);
      expect(new PackedReader(i).int()).toBe(Number(v));
    }
  });
});
