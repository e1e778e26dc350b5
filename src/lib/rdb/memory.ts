import type { RdbValueType } from './parser.js';

/**
 * What a key would cost on a Redis 7.0 server that loaded it, as MEMORY
 * USAGE (object.c objectComputeSize, SAMPLES 0) reports it: the key's SDS
 * and dict entry, the robj, and the value's allocations, each rounded up to
 * jemalloc's size class. Exact for strings, listpacks and intsets (the blob
 * in the file is what is allocated); modelled for hash tables and skiplists
 * (dict slots a power of two, skiplist node levels at their expected size)
 * and for quicklists (nodes re-packed at list-max-listpack-size -2, 8 KB) and
 * streams (listpacks plus the radix tree). Measured against MEMORY USAGE in
 * test/integration/rdb.test.ts and docs/rdb.md.
 */
export class Measure {
  keyLen = 0;
  stringLen = 0;
  stringIsInt = false;
  elements = 0;
  /** Sum of the elements' SDS allocations (hash-table and skiplist encodings). */
  sdsAlloc = 0;
  /** Sum of the elements' sizes as listpack entries (for a list re-packed into quicklist nodes). */
  packedEntries = 0;
  /** Bytes of the blob(s) in the file: listpack, ziplist, intset, quicklist nodes, stream nodes. */
  blobBytes = 0;
  blobAlloc = 0;
  nodes = 0;
  groups = 0;
  pending = 0;

  constructor(readonly type: RdbValueType, public encoding: string) {}

  maxElement = 0;
  allInt = true;

  element(len: number, text?: Buffer): void {
    this.sdsAlloc += sdsAlloc(len);
    this.packedEntries += listpackEntrySize(len, text);
    if (len > this.maxElement) this.maxElement = len;
    if (!text || !/^-?\d{1,19}$/.test(text.toString('latin1'))) this.allInt = false;
  }

  /** A listpack entry that has no SDS of its own in a hash table (a sorted set's score). */
  packedOnly(text: Buffer): void {
    this.packedEntries += listpackEntrySize(text.length, text);
  }

  /** The encoding a 7.0 server gives it on load with the default thresholds (small hash tables become listpacks…). */
  private loadedEncoding(): string {
    const small = this.elements <= 128 && this.maxElement <= 64;
    if ((this.type === 'hash' || this.type === 'zset') && this.encoding !== 'listpack' && this.encoding !== 'ziplist' && this.encoding !== 'zipmap') return small ? 'listpack' : 'hashtable';
    if (this.type === 'set' && this.encoding === 'hashtable' && this.allInt && this.elements <= 512) return 'intset';
    return this.encoding;
  }

  blob(len: number): void {
    this.blobBytes += len;
    this.blobAlloc += jemallocSize(len);
  }

  bytes(): number {
    return keyOverhead(this.keyLen) + this.valueBytes();
  }

  private valueBytes(): number {
    const n = this.elements;
    const encoding = this.loadedEncoding();
    const listpack = (this.encoding === 'listpack' && this.blobBytes ? this.blobAlloc : jemallocSize(LISTPACK_HEADER + this.packedEntries));
    switch (this.type) {
      case 'string':
        if (this.stringIsInt) return ROBJ;
        if (this.stringLen <= EMBSTR_MAX) return jemallocSize(ROBJ + 3 + this.stringLen + 1);
        return ROBJ + sdsAlloc(this.stringLen, false);
      case 'list': {
        // 7.0 keeps every list as a quicklist: nodes of at most 8 KB of listpack.
        const lpBytes = this.encoding === 'quicklist' && this.blobBytes ? this.blobBytes : LISTPACK_HEADER + this.packedEntries;
        const nodes = this.encoding === 'quicklist' && this.nodes ? this.nodes : Math.max(1, Math.ceil(lpBytes / QUICKLIST_NODE_BYTES));
        const perNode = this.encoding === 'quicklist' && this.blobAlloc ? this.blobAlloc : nodes * jemallocSize(Math.ceil(lpBytes / nodes));
        return ROBJ + QUICKLIST + nodes * QUICKLIST_NODE + perNode;
      }
      case 'set':
        if (this.encoding === 'intset' || this.encoding === 'listpack') return ROBJ + this.blobAlloc;
        if (encoding === 'intset') return ROBJ + jemallocSize(8 + n * 8);
        return ROBJ + DICT + dictSlots(n) * 8 + n * DICT_ENTRY + this.sdsAlloc;
      case 'hash':
        if (encoding !== 'hashtable') return ROBJ + listpack;
        return ROBJ + DICT + dictSlots(n) * 8 + n * DICT_ENTRY + this.sdsAlloc;
      case 'zset':
        if (encoding !== 'hashtable') return ROBJ + listpack;
        return ROBJ + ZSET + ZSKIPLIST + DICT + dictSlots(n) * 8 + SKIPLIST_HEADER + n * (DICT_ENTRY + SKIPLIST_NODE_EXPECTED) + this.sdsAlloc;
      case 'stream':
        return ROBJ + STREAM + this.blobAlloc + this.nodes * RAX_PER_NODE + this.groups * STREAM_GROUP + this.pending * STREAM_NACK;
      case 'module':
        return ROBJ;
    }
  }
}

const ROBJ = 16;
const DICT_ENTRY = 24;
const DICT = 56;
const EMBSTR_MAX = 44;
const QUICKLIST = 40;
const QUICKLIST_NODE = 32;
const QUICKLIST_NODE_BYTES = 8192;
const LISTPACK_HEADER = 7;
const ZSET = 16;
const ZSKIPLIST = 32;
/** The header node has all 32 levels: 24 + 32 × 16 = 536 bytes, a 640-byte class. */
const SKIPLIST_HEADER = 640;
/** A node is 24 bytes + 16 per level; levels are 1 with p 0.75, 2 with 0.1875…: the expected allocation. */
const SKIPLIST_NODE_EXPECTED = 53;
/** stream struct, rax header; per node: a rax node and its key; per group and pending entry: their structs. */
const STREAM = 64 + 24;
const RAX_PER_NODE = 48;
const STREAM_GROUP = 128;
const STREAM_NACK = 64;

/** jemalloc's size classes (4 per doubling above 64 bytes; 8, 16, 32, 48 below). */
export function jemallocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 64) return Math.ceil(n / 16) * 16;
  // The highest power of two below n: clz32 where n fits 32 bits (it runs per key and per element).
  const p = n - 1 < 2 ** 32 ? 2 ** (31 - Math.clz32(n - 1)) : 2 ** Math.floor(Math.log2(n - 1));
  const step = p / 4;
  return Math.ceil(n / step) * step;
}

/** An SDS of `len` bytes: header by size (type 5 under 32 bytes where Redis uses it), the bytes, a NUL. */
function sdsAlloc(len: number, type5 = true): number {
  const header = type5 && len < 32 ? 1 : len < 256 ? 3 : len < 65536 ? 5 : len < 2 ** 32 ? 9 : 17;
  return jemallocSize(header + len + 1);
}

/** The key's SDS in the main dict and its dict entry (MEMORY USAGE counts both). */
function keyOverhead(keyLen: number): number {
  return sdsAlloc(keyLen) + DICT_ENTRY;
}

/** A power of two at least n (a dict expanded to hold n, as loading does). */
function dictSlots(n: number): number {
  let s = 4;
  while (s < n) s *= 2;
  return s;
}

/** An element's size in a listpack: the encoding, the bytes, the back-length. */
function listpackEntrySize(len: number, text?: Buffer): number {
  let size: number;
  const int = text && len <= 20 && /^-?\d+$/.test(text.toString('latin1')) ? Number(text.toString('latin1')) : null;
  if (int !== null && Number.isSafeInteger(int)) {
    size = int >= 0 && int <= 127 ? 1 : int >= -4096 && int <= 4095 ? 2 : int >= -32768 && int <= 32767 ? 3 : int >= -8388608 && int <= 8388607 ? 4 : int >= -2147483648 && int <= 2147483647 ? 5 : 9;
  } else size = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return size + (size < 128 ? 1 : size < 16384 ? 2 : size < 2097152 ? 3 : size < 268435456 ? 4 : 5);
}
