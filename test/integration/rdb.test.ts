import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { ndjson, runCli } from '../helpers/cli.js';
import { BINARY_KEY, fillEveryType } from '../helpers/fixtures.js';
import { snapshotAll } from '../helpers/snapshot.js';

// RDB files written by this machine's redis-server (with the encoding
// thresholds high and low, so every encoding appears) and the files from
// Redis's own test suite; each is loaded into a real redis-server, and what
// the reader finds is compared with what the server loaded.
const dir = mkdtempSync(join(tmpdir(), 'ro-rdb-'));
const FIXTURES = join(import.meta.dirname, '../fixtures/rdb');
const servers: LocalServer[] = [];
const clients: Redis[] = [];
const files: Record<string, string> = {};

/** Low thresholds: hash tables, skiplists, one-element quicklist nodes compressed with LZF. */
const PLAIN = ['--hash-max-listpack-entries', '0', '--zset-max-listpack-entries', '0', '--set-max-intset-entries', '0', '--list-max-listpack-size', '1', '--list-compress-depth', '1'];

async function fill(c: Redis): Promise<void> {
  await fillEveryType(c);
  await c.set('int:small', '42');
  await c.set('int:big', '-9223372036854775808');
  await c.set('int:lead0', '007');
  await c.set('str:compressible', 'abc'.repeat(2000));
  await c.set('str:exp', 'v', 'PX', 7_200_000);
  await c.set('str:esc', Buffer.from('\x1b[31mred\x00'));
  // Incompressible (a fixed pseudo-random sequence): LZF stores it as it is.
  let x = 12345;
  await c.set('str:big', Buffer.from(Array.from({ length: 3 << 20 }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24)));
  await c.set('str:big-lzf', Buffer.alloc(2 << 20, 7));
  await c.rpush('list:long', ...Array.from({ length: 700 }, (_, i) => (i % 3 ? `item-${i}` : String(i * 1000))));
  await c.sadd('set:ints', 1, 2, 300, -70000, 5_000_000_000);
  await c.sadd('set:mixed', ...Array.from({ length: 600 }, (_, i) => `m${i}`));
  await c.zadd('zset:big', ...Array.from({ length: 300 }, (_, i) => [i / 7, `m${i}`]).flat());
  await c.zadd('zset:inf', 'inf', 'top', '-inf', 'bottom', '0', 'zero');
  await c.hset('hash:big', Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`.repeat(i % 5 + 1)])));
  await c.hset('hash:ints', 'a', '1', 'b', '-2', 'c', '70000');
  await c.xadd('stream:groups', '*', 'a', '1', 'b', '2');
  await c.xadd('stream:groups', '*', 'a', '3', 'b', '4');
  await c.xadd('stream:groups', '*', 'other', 'x');
  await c.xgroup('CREATE', 'stream:groups', 'g1', '0');
  await c.xgroup('CREATE', 'stream:groups', 'g2', '$');
  await c.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', '2', 'STREAMS', 'stream:groups', '>');
  await c.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', '1', 'STREAMS', 'stream:groups', '>');
  await c.xadd('stream:deleted', '5-1', 'k', 'v');
  await c.xadd('stream:deleted', '6-1', 'k', 'w');
  await c.xdel('stream:deleted', '5-1');
  await c.select(2);
  await c.set('db2:key', 'in db 2', 'EX', 86400);
  await c.hset('db2:hash', 'f', 'v');
  await c.select(0);
}

async function saved(name: string, args: string[]): Promise<string> {
  const s = await startServer({ args });
  servers.push(s);
  const c = clientFor(s);
  clients.push(c);
  await fill(c);
  await c.save();
  const file = join(dir, `${name}.rdb`);
  copyFileSync(join(s.dir, 'dump.rdb'), file);
  return file;
}

/** A fresh server that loaded FILE at start. */
async function loaded(file: string): Promise<{ server: LocalServer; c: Redis }> {
  const own = mkdtempSync(join(dir, 'load-'));
  copyFileSync(file, join(own, 'in.rdb'));
  chmodSync(join(own, 'in.rdb'), 0o644);
  const server = await startServer({ args: ['--dir', own, '--dbfilename', 'in.rdb'] });
  servers.push(server);
  const c = clientFor(server);
  clients.push(c);
  return { server, c };
}

beforeAll(async () => {
  files.packed = await saved('packed', []);
  files.plain = await saved('plain', PLAIN);
}, 120_000);
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(servers.map((s) => s.stop()));
});

const LENGTH: Record<string, string> = { string: 'STRLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD', hash: 'HLEN', stream: 'XLEN' };

async function dbsOf(c: Redis): Promise<number[]> {
  return (await c.info('keyspace')).split('\n').filter((l) => l.startsWith('db')).map((l) => Number(l.slice(2, l.indexOf(':'))));
}

/** scan finds every key the server loaded, with its type, length, expiry and db. */
async function compareScan(file: string, c: Redis): Promise<number> {
  const r = await runCli(['rdb', 'scan', file]);
  expect(r.code, r.stderr).toBe(0);
  const lines = ndjson(r.stdout) as any[];
  let total = 0;
  for (const db of await dbsOf(c)) {
    await c.select(db);
    const mine = lines.filter((l) => l.db === db);
    expect(mine.length, `db ${db}`).toBe(await c.dbsize());
    for (const l of mine) {
      const key = l.key64 !== undefined ? Buffer.from(l.key64, 'base64') : Buffer.from(l.key, 'utf8');
      expect(await c.type(key), l.key).toBe(l.type);
      expect(Number(await c.call(LENGTH[l.type]!, key)), `${l.key} length`).toBe(l.length);
      const at = Number(await c.call('PEXPIRETIME', key));
      expect(l.expireAtMs, `${l.key} expiry`).toBe(at === -1 ? null : at);
    }
    total += mine.length;
  }
  await c.select(0);
  return total;
}

/** export, then restore into an empty server: the same keys, byte for byte, in every database. */
async function compareExport(file: string, c: Redis, extra: string[] = []): Promise<void> {
  const out = join(dir, `${Math.random().toString(36).slice(2)}.jsonl.gz`);
  const e = await runCli(['rdb', 'export', file, '-o', out, '--json', ...extra]);
  expect(e.code, e.stderr).toBe(0);
  expect((await runCli(['backup', 'verify', out])).code).toBe(0);
  const target = await startServer();
  servers.push(target);
  const r = await runCli(['restore', out, '--url', target.url, '--yes', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const t = clientFor(target);
  clients.push(t);
  for (const db of await dbsOf(c)) {
    await c.select(db);
    await t.select(db);
    expect(await snapshotAll(t), `db ${db}`).toEqual(await snapshotAll(c));
  }
  await c.select(0);
}

describe('files written by redis-server 7.0', () => {
  it.each(['packed', 'plain'])('%s encodings: scan equals the loaded server, key by key', async (name) => {
    const { c } = await loaded(files[name]!);
    expect(await compareScan(files[name]!, c)).toBe(await c.dbsize() + 2);
  });

  it.each(['packed', 'plain'])('%s encodings: export + restore equals the loaded server, byte for byte', async (name) => {
    const { c } = await loaded(files[name]!);
    await compareExport(files[name]!, c);
  });

  it('every exported record carries the time the file was written (its ctime), the first keys too', async () => {
    const out = join(dir, 'captured.jsonl');
    expect((await runCli(['rdb', 'export', files.packed!, '-o', out, '--force'])).code).toBe(0);
    const records = readFileSync(out, 'utf8').trim().split('\n').slice(1, -1).map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThan(20);
    const times = new Set(records.map((r) => r.capturedAtMs));
    expect([...times]).toHaveLength(1);
    // ctime has whole seconds.
    expect([...times][0] % 1000).toBe(0);
  });

  it('every encoding is in the two files', async () => {
    const encodings = new Set<string>();
    for (const f of [files.packed!, files.plain!]) for (const l of ndjson((await runCli(['rdb', 'scan', f])).stdout) as any[]) encodings.add(`${l.type}/${l.encoding}`);
    expect([...encodings].sort()).toEqual([
      'hash/hashtable', 'hash/listpack', 'list/quicklist', 'set/hashtable', 'set/intset', 'stream/stream', 'string/embstr', 'string/int', 'string/raw', 'zset/listpack', 'zset/skiplist',
    ]);
  });

  it('gzip and stdin read the same; filters pick keys', async () => {
    const gz = join(dir, 'packed.rdb.gz');
    writeFileSync(gz, gzipSync(readFileSync(files.packed!)));
    const plain = await runCli(['rdb', 'scan', files.packed!]);
    expect((await runCli(['rdb', 'scan', gz])).stdout).toBe(plain.stdout);
    expect((await runCli(['rdb', 'scan', '-'], { input: readFileSync(gz) })).stdout).toBe(plain.stdout);
    const hashes = ndjson((await runCli(['rdb', 'scan', files.packed!, '--type', 'hash', '--db', '0'])).stdout) as any[];
    expect(hashes.map((h) => h.key).sort()).toEqual(['h:1', 'hash:big', 'hash:ints']);
    const noTtl = ndjson((await runCli(['rdb', 'scan', files.packed!, 'str:*', '--no-ttl'])).stdout) as any[];
    expect(noTtl.map((h) => h.key).sort()).toEqual(['str:big', 'str:big-lzf', 'str:compressible', 'str:esc']);
    const bin = (ndjson(plain.stdout) as any[]).find((l) => l.key64);
    expect(Buffer.from(bin.key64, 'base64')).toEqual(BINARY_KEY);
  });

  it('rdb stats: the keys stats schema, from the file', async () => {
    const r = await runCli(['rdb', 'stats', files.packed!, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const live = JSON.parse((await runCli(['keys', 'stats', '--url', servers[0]!.url, '--json'])).stdout);
    for (const field of Object.keys(live)) expect(doc, field).toHaveProperty(field);
    expect(doc.source).toMatchObject({ version: 10, magic: 'REDIS', checksum: 'verified', redisVersion: '7.0.15' });
    expect(doc.scanned).toBe(live.scanned + 2);
    expect(doc.types.find((t: any) => t.type === 'stream').count).toBe(3);
    expect(doc.topByMemory[0]).toMatchObject({ key: 'str:big', type: 'string', length: 3 << 20 });
  });
});

describe('files from Redis\'s own test suite (older encodings)', () => {
  it.each(['encodings', 'hash-zipmap', 'hash-ziplist', 'zset-ziplist', 'list-quicklist', 'scriptbackup'])('%s: scan and export + restore equal the loaded server', async (name) => {
    const file = join(FIXTURES, `${name}.rdb`);
    const { c } = await loaded(file);
    expect(await compareScan(file, c)).toBe(await c.dbsize());
    await compareExport(file, c);
  });

  it('encodings.rdb holds each old encoding', async () => {
    const lines = ndjson((await runCli(['rdb', 'scan', join(FIXTURES, 'encodings.rdb')])).stdout) as any[];
    expect(new Set(lines.map((l) => `${l.type}/${l.encoding}`))).toEqual(new Set([
      'hash/ziplist', 'hash/hashtable', 'list/ziplist', 'list/linkedlist', 'set/intset', 'set/hashtable', 'zset/ziplist', 'zset/skiplist', 'string/int', 'string/embstr', 'string/raw',
    ]));
    expect(lines).toHaveLength(13);
  });

  it('empty collections are skipped, as the server skips them', async () => {
    const file = join(FIXTURES, 'corrupt_empty_keys.rdb');
    const { c } = await loaded(file);
    expect(await c.dbsize()).toBe(0);
    const r = await runCli(['rdb', 'scan', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  });
});

describe('memory estimates against MEMORY USAGE', () => {
  it('per pattern within 15% of what the server that loaded the file reports', async () => {
    const s = await startServer();
    servers.push(s);
    const c = clientFor(s);
    clients.push(c);
    const p = c.pipeline();
    for (let i = 0; i < 200; i++) {
      p.set(`num:${i}`, String(i * 12345));
      p.set(`short:${i}`, `value-${i}-${'x'.repeat(i % 30)}`);
      p.set(`long:${i}`, 'y'.repeat(100 + i * 10));
      p.hset(`user:${i}`, 'name', `user${i}`, 'plan', 'pro', 'visits', String(i));
      p.sadd(`tags:${i}`, 'red', 'green', `t${i}`);
      p.sadd(`ids:${i}`, ...Array.from({ length: 20 }, (_, j) => j * i));
      p.zadd(`rank:${i}`, ...Array.from({ length: 10 }, (_, j) => [j, `p${j}`]).flat());
      p.rpush(`log:${i}`, ...Array.from({ length: 50 }, (_, j) => `event ${j} of ${i}`));
    }
    for (let i = 0; i < 20; i++) {
      p.hset(`big:h:${i}`, Object.fromEntries(Array.from({ length: 300 }, (_, j) => [`field${j}`, `v${j}`])));
      p.zadd(`big:z:${i}`, ...Array.from({ length: 300 }, (_, j) => [j, `member${j}`]).flat());
      p.sadd(`big:s:${i}`, ...Array.from({ length: 600 }, (_, j) => `s${j}`));
    }
    await p.exec();
    await c.save();
    const file = join(dir, 'memory.rdb');
    copyFileSync(join(s.dir, 'dump.rdb'), file);
    const { c: l } = await loaded(file);
    const r = await runCli(['rdb', 'stats', file, '--json', '--groups', '100']);
    const groups = JSON.parse(r.stdout).groups as any[];
    const report: string[] = [];
    for (const g of groups) {
      const keys = (await l.keys(g.pattern.replace(/\\*$/, '*'))) as string[];
      let usage = 0;
      for (const k of keys) usage += Number(await l.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
      report.push(`${g.pattern}: estimated ${g.bytes}, MEMORY USAGE ${usage} (${((g.bytes / usage - 1) * 100).toFixed(1)}%)`);
      expect(Math.abs(g.bytes / usage - 1), report.join('\n')).toBeLessThan(0.15);
    }
    expect(groups.length).toBe(11);
    writeFileSync(join(dir, 'memory-report.txt'), report.join('\n'));
    if (process.env.REDIS_OPS_RDB_MEMORY_REPORT) writeFileSync(process.env.REDIS_OPS_RDB_MEMORY_REPORT, `${report.join('\n')}\n`);
  });
});

describe('broken input: exit 2 with the offset, never a crash or a short report', () => {
  const bytes = () => readFileSync(files.packed!);
  const write = (name: string, b: Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, b);
    return f;
  };

  it('truncated at twenty offsets: each is exit 2 naming an offset', async () => {
    const b = bytes();
    for (let i = 1; i <= 20; i++) {
      const at = Math.floor((b.length * i) / 21);
      const r = await runCli(['rdb', 'stats', write(`trunc-${i}.rdb`, b.subarray(0, at)), '--json']);
      expect(r.code, `cut at ${at}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/offset \d+: .*(truncated|ends)/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('a flipped byte: exit 2 (the checksum, or the structure it broke)', async () => {
    const b = Buffer.from(bytes());
    // A byte inside str:compressible's value: the structure stays valid, only the checksum catches it.
    const at = b.indexOf(Buffer.from('str:compressible')) + 30;
    b[at] = b[at]! ^ 0x55;
    const r = await runCli(['rdb', 'scan', write('flipped.rdb', b)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checksum mismatch|corrupt/);
  });

  it('an unknown opcode, a huge declared length, a newer version, not an RDB at all', async () => {
    const b = bytes();
    const firstKey = b.indexOf(Buffer.from([0xfe, 0x00])) + 2;
    const unknown = Buffer.from(b);
    // After SELECTDB 0 comes RESIZEDB (0xfb) and the first value type: make that an unknown one.
    const typeAt = unknown.indexOf(Buffer.from([0xfb]), firstKey - 2) + 3;
    unknown[typeAt] = 200;
    let r = await runCli(['rdb', 'scan', write('unknown.rdb', unknown)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/offset \d+: unknown opcode or value type 200/);

    const huge = Buffer.concat([b.subarray(0, 9), Buffer.from([0xfe, 0x00, 0x00, 0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
    r = await runCli(['rdb', 'scan', write('huge.rdb', huge)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/offset \d+: /);

    r = await runCli(['rdb', 'stats', write('newer.rdb', Buffer.concat([Buffer.from('REDIS0013'), b.subarray(9)]))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/RDB version 13 is newer than this reader knows/);

    r = await runCli(['rdb', 'stats', write('json.rdb', Buffer.from('{"not":"an rdb"}\n'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an RDB file/);
  });

  it('empty, a directory, a missing file, /dev/null, an empty argument: exit 2, one line', async () => {
    for (const [args, message] of [
      [['rdb', 'scan', write('empty.rdb', Buffer.alloc(0))], /shorter than its 9-byte header/],
      [['rdb', 'scan', dir], /cannot read it as an RDB file \(EISDIR\)/],
      [['rdb', 'scan', join(dir, 'nope.rdb')], /cannot read it as an RDB file \(ENOENT\)/],
      [['rdb', 'stats', '/dev/null'], /shorter than its 9-byte header/],
      [['rdb', 'stats', ''], /the file argument is empty/],
      [['rdb', 'export', files.packed!, '-o', ''], /--output is empty/],
      [['rdb', 'scan', write('badgz.rdb.gz', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]))], /corrupt gzip|offset/],
    ] as [string[], RegExp][]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('a key bigger than the buffer is read in pieces', () => {
  it('every key read piecewise (a 1 KB buffer) exports exactly what the whole-key path exports', async () => {
    const { exportRdb, scanRdb } = await import('../../src/lib/rdb/analyze.js');
    const { Readable } = await import('node:stream');
    const now = Date.now();
    // Pieces: the file arrives on stdin in 397-byte chunks, so nearly every key spans a refill and,
    // past the 1 KB buffer, is read element by element (hashes, lists, sets, sorted sets, strings).
    const chunks = () => {
      const b = readFileSync(files.plain!);
      const out: Buffer[] = [];
      for (let i = 0; i < b.length; i += 397) out.push(b.subarray(i, i + 397));
      return Readable.from(out);
    };
    const collect = async (maxBuffered?: number) => {
      const lines: Buffer[] = [];
      const sink = { records: 0, byteCount: 0, header: async () => undefined, lines: async (chunk: Buffer) => { lines.push(chunk); } };
      const path = maxBuffered ? '-' : files.plain!;
      const r = await exportRdb(path, chunks(), {}, sink, now, { maxBuffered });
      const scanned: unknown[] = [];
      await scanRdb(path, chunks(), {}, (l) => { scanned.push(l); }, { maxBuffered });
      return { text: Buffer.concat(lines).toString(), keys: r.keys, scanned };
    };
    const whole = await collect();
    const pieces = await collect(1024);
    expect(whole.keys).toBe(whole.scanned.length);
    expect(whole.keys).toBe(27);
    expect(pieces.keys).toBe(whole.keys);
    expect(pieces.scanned).toEqual(whole.scanned);
    // The 3 MB string went out in 1 MB parts.
    expect(pieces.text).not.toBe(whole.text); // the big strings went out in parts…
    const parts = (t: string, key: string) => t.split('\n').filter((l) => l.startsWith(`{"key":"${key}"`)).map((l) => JSON.parse(l));
    expect(parts(pieces.text, 'str:big').map((r) => r.part)).toEqual([0, 1, 2]);
    expect(parts(pieces.text, 'str:big-lzf').map((r) => r.part)).toEqual([0, 1]);
    // …of exactly the same bytes.
    const joined = (rs: any[]) => rs.map((r) => (typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value.b64, 'base64'))).reduce((a, b) => Buffer.concat([a, b]));
    for (const key of ['str:big', 'str:big-lzf']) expect(joined(parts(pieces.text, key)).equals(joined(parts(whole.text, key)))).toBe(true);
    const rest = (t: string) => t.split('\n').filter((l) => !l.startsWith('{"key":"str:big')).join('\n');
    expect(rest(pieces.text)).toBe(rest(whole.text));
  });
});

describe('Valkey RDB 80 (no Valkey server here: a file built to Valkey\'s rdb.h)', () => {
  it('the VALKEY080 header and a hash with field expiries (RDB_TYPE_HASH_2) are read; field TTLs are reported as dropped on export', async () => {
    const { Crc64 } = await import('../../src/lib/rdb/crc64.js');
    const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
    const ms = (n: number) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; };
    const body = Buffer.concat([
      Buffer.from('VALKEY080'),
      Buffer.from([0xfa]), str('valkey-ver'), str('9.0.0'),
      Buffer.from([0xfe, 0x00, 0xfb, 0x02, 0x00]),
      Buffer.from([0x00]), str('plain'), str('value'),
      Buffer.from([22]), str('h'), Buffer.from([2]), str('f1'), str('v1'), ms(-1), str('f2'), str('v2'), ms(4_000_000_000_000),
      Buffer.from([0xff]),
    ]);
    const crc = new Crc64();
    crc.update(body);
    const file = join(dir, 'valkey80.rdb');
    writeFileSync(file, Buffer.concat([body, crc.digest()]));
    const scan = await runCli(['rdb', 'scan', file]);
    expect(scan.code, scan.stderr).toBe(0);
    expect(ndjson(scan.stdout)).toEqual([
      expect.objectContaining({ key: 'plain', type: 'string', length: 5 }),
      expect.objectContaining({ key: 'h', type: 'hash', encoding: 'hashtable', length: 2 }),
    ]);
    expect(scan.stderr).toMatch(/RDB 80, checksum verified/);
    const out = join(dir, 'valkey80.jsonl');
    const e = await runCli(['rdb', 'export', file, '-o', out, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).skipped).toEqual({ modules: 0, expired: 0, fieldExpiriesDropped: 1 });
    expect(readFileSync(out, 'utf8')).toContain('{"key":"h","db":0,"type":"hash","expireAtMs":null,"capturedAtMs":');
    const bad = Buffer.concat([Buffer.from('VALKEY081'), body.subarray(9)]);
    writeFileSync(join(dir, 'v81.rdb'), bad);
    const newer = await runCli(['rdb', 'scan', join(dir, 'v81.rdb')]);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(/Valkey RDB version 81 is not one this reader knows/);
  });
});

describe('opcodes beyond keys: functions, idle times, LFU counters, module values', () => {
  it('a function library, IDLE (LRU policy) and FREQ (LFU policy) are read past; keys and checksum intact', async () => {
    for (const policy of ['allkeys-lru', 'allkeys-lfu']) {
      const s = await startServer({ args: ['--maxmemory-policy', policy] });
      servers.push(s);
      const c = clientFor(s);
      clients.push(c);
      await c.call('FUNCTION', 'LOAD', "#!lua name=mylib\nredis.register_function('one', function() return 1 end)");
      await c.set('a', '1');
      await c.hset('h', 'f', 'v');
      await c.save();
      const file = join(dir, `${policy}.rdb`);
      copyFileSync(join(s.dir, 'dump.rdb'), file);
      const marker = policy === 'allkeys-lru' ? 0xf8 : 0xf9;
      expect(readFileSync(file).includes(Buffer.from([marker])), `${policy} writes opcode ${marker}`).toBe(true);
      const r = await runCli(['rdb', 'stats', file, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ scanned: 2, source: { functions: 1, checksum: 'verified' } });
    }
  });

  it('module aux data and a module value are skipped, the value counted and named by its module type; export refuses to drop it silently', async () => {
    const { Crc64 } = await import('../../src/lib/rdb/crc64.js');
    const charset = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let id = 0n;
    for (const ch of 'ReJSON-RL') id = (id << 6n) | BigInt(charset.indexOf(ch));
    id = (id << 10n) | 3n;
    const len64 = (n: bigint) => { const b = Buffer.alloc(9); b[0] = 0x81; b.writeBigUInt64BE(n, 1); return b; };
    const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
    const body = Buffer.concat([
      Buffer.from('REDIS0010'),
      // Module aux data (0xf7): the module id, when-opcode UINT (2), when (2: after the keyspace), a UINT, EOF.
      Buffer.from([0xf7]), len64(id), Buffer.from([0x02, 0x02, 0x02, 0x07, 0x00]),
      Buffer.from([0xfe, 0x00]),
      Buffer.from([0x07]), str('doc:1'), len64(id),
      Buffer.from([0x02, 0x05]), Buffer.from([0x05]), str('{"a":1}'), Buffer.from([0x04]), Buffer.alloc(8), Buffer.from([0x00]),
      Buffer.from([0x00]), str('plain'), str('v'),
      Buffer.from([0xff]),
    ]);
    const crc = new Crc64();
    crc.update(body);
    const file = join(dir, 'module.rdb');
    writeFileSync(file, Buffer.concat([body, crc.digest()]));
    const scan = await runCli(['rdb', 'scan', file]);
    expect(scan.code, scan.stderr).toBe(0);
    expect(ndjson(scan.stdout)).toEqual([
      expect.objectContaining({ key: 'doc:1', type: 'module', encoding: 'ReJSON-RL' }),
      expect.objectContaining({ key: 'plain', type: 'string' }),
    ]);
    const stats = JSON.parse((await runCli(['rdb', 'stats', file, '--json'])).stdout);
    expect(stats.source.modules).toEqual({ 'ReJSON-RL': 1 });
    const e = await runCli(['rdb', 'export', file, '-o', join(dir, 'module.jsonl'), '--json']);
    expect(e.code).toBe(1);
    expect(JSON.parse(e.stdout)).toMatchObject({ keys: 1, skipped: { modules: 1 } });
    expect(e.stderr).toMatch(/NOT EXPORTED: 1 key\(s\) of a module type \(ReJSON-RL\)/);
  });
});

describe('paths that are not plain files', () => {
  it('a FIFO is read as a stream (redis-cli --rdb into a pipe), a symlink followed, an existing -o refused without --force', async () => {
    const { execFileSync, spawn } = await import('node:child_process');
    const { symlinkSync, existsSync } = await import('node:fs');
    const fifo = join(dir, 'in.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat '${files.packed!}' > '${fifo}'`]);
    const written = new Promise((r) => writer.on('close', r));
    const viaFifo = await runCli(['rdb', 'scan', fifo]);
    await written;
    expect(viaFifo.code, viaFifo.stderr).toBe(0);
    expect(viaFifo.stdout).toBe((await runCli(['rdb', 'scan', files.packed!])).stdout);
    const link = join(dir, 'link.rdb');
    symlinkSync(files.packed!, link);
    expect((await runCli(['rdb', 'scan', link])).stdout).toBe(viaFifo.stdout);
    const taken = join(dir, 'taken.jsonl');
    writeFileSync(taken, 'keep me');
    const r = await runCli(['rdb', 'export', files.packed!, '-o', taken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists: pass --force to replace it/);
    expect(readFileSync(taken, 'utf8')).toBe('keep me');
    expect(existsSync(`${taken}.partial-${process.pid}`)).toBe(false);
  });
});

describe('stdin that is a terminal', () => {
  it('"-" with nothing piped in is refused at once, not waited on', async () => {
    const { runInTty } = await import('../helpers/tty.js');
    const r = await runInTty(['rdb', 'stats', '-'], { waitFor: /$^/ });
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/stdin is a terminal: pipe an RDB file into it/);
  });
});
