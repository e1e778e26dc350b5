/**
 * `backup verify` catches everything `restore` would reject or apply wrongly
 * (issue 14, items 1–6 and 8): malformed files that still carry a valid
 * checksum (re-signed), as an attacker or a buggy tool would make them.
 * Written to fail on the code before the fix.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { allKeys, clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'ro-strict-'));
let n = 0;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

const HEADER = { format: 'redis-ops-backup', version: 1, createdAt: '2026-11-30T00:00:00.000Z', source: { address: 'x:1', version: '7.0.15', mode: 'standalone' }, dbs: [0], filters: { match: [], type: [] } };

/** A backup file with these record lines (strings or objects), correctly counted and signed. */
function signed(records: (string | Buffer | object)[]): string {
  const lines = [Buffer.from(JSON.stringify(HEADER)), ...records.map((r) => (Buffer.isBuffer(r) ? r : Buffer.from(typeof r === 'string' ? r : JSON.stringify(r))))];
  const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
  const trailer = JSON.stringify({ trailer: true, records: records.length, sha256: createHash('sha256').update(body).digest('hex') });
  const file = join(dir, `f${n++}.jsonl`);
  writeFileSync(file, Buffer.concat([body, Buffer.from(`${trailer}\n`)]));
  return file;
}

const rec = (key: string, type: string, value: unknown, extra: object = {}) => ({ key, db: 0, type, expireAtMs: null, capturedAtMs: 1764460800000, value, ...extra });
const part = (key: string, type: string, value: unknown, p: number, more: boolean) => rec(key, type, value, { part: p, more });
const list = (from: number, count: number) => Array.from({ length: count }, (_, i) => `e${from + i}`);

async function expectRejected(file: string, line: number, what: RegExp) {
  const v = await runCli(['backup', 'verify', file]);
  expect(v.code, v.stderr).toBe(2);
  expect(v.stderr).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')} line ${line}: `));
  expect(v.stderr).toMatch(what);
  expect(v.stderr.trim().split('\n')).toHaveLength(1);
  // restore refuses before writing anything, and leaves no temporary key.
  await redis.set('before', '1');
  const r = await runCli(['restore', file, '--yes', '--url', server.url]);
  expect(r.code, r.stderr).toBe(2);
  expect(await allKeys(redis)).toEqual(['before']);
  await redis.del('before');
}

describe('multi-part keys', () => {
  it('a missing last part', async () => {
    const file = signed([rec('a', 'string', 'x'), part('big', 'list', list(0, 3), 0, true), part('big', 'list', list(3, 3), 1, true), rec('z', 'string', 'y')]);
    await expectRejected(file, 5, /key "big": part 2 is missing/);
  });

  it('a missing last part at the end of the file', async () => {
    const file = signed([part('big', 'list', list(0, 3), 0, true), part('big', 'list', list(3, 3), 1, true)]);
    await expectRejected(file, 4, /key "big": the file ends before its last part/);
  });

  it('a duplicated part', async () => {
    const file = signed([part('big', 'list', list(0, 3), 0, true), part('big', 'list', list(3, 3), 1, true), part('big', 'list', list(3, 3), 1, true), part('big', 'list', list(6, 3), 2, false)]);
    await expectRejected(file, 4, /key "big": part 1 again \(expected part 2\)/);
  });

  it('parts out of order', async () => {
    const file = signed([part('big', 'list', list(0, 3), 0, true), part('big', 'list', list(6, 3), 2, true), part('big', 'list', list(3, 3), 1, false)]);
    await expectRejected(file, 3, /key "big": part 2 where part 1 was expected/);
  });

  it('a type change between parts', async () => {
    const file = signed([part('big', 'list', list(0, 3), 0, true), part('big', 'set', list(3, 3), 1, false)]);
    await expectRejected(file, 3, /key "big": part 1 is a set, part 0 a list/);
  });

  it('a part of another key in the middle', async () => {
    const file = signed([part('big', 'list', list(0, 3), 0, true), part('other', 'list', list(3, 3), 1, false)]);
    await expectRejected(file, 3, /part 1 of key "other", but key "big" is not finished/);
  });

  it('a valid multi-part key restores whole (and verify counts it once)', async () => {
    const file = signed([part('big', 'list', list(0, 3), 0, true), part('big', 'list', list(3, 3), 1, false)]);
    const v = await runCli(['backup', 'verify', file, '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ keys: 1, records: 2 });
    const r = await runCli(['restore', file, '--yes', '--url', server.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(await redis.lrange('big', 0, -1)).toEqual(list(0, 6));
  });
});

describe('values restore would refuse', () => {
  it('stream entry ids that do not ascend', async () => {
    const file = signed([rec('s', 'stream', { entries: [['5-0', ['f', 'v']], ['3-0', ['f', 'v']]], lastId: '5-0', entriesAdded: 2, maxDeletedId: '0-0', groups: [] })]);
    await expectRejected(file, 2, /stream entry 1 id 3-0 is not after 5-0/);
  });

  it('stream ids that descend across parts', async () => {
    const file = signed([
      part('s', 'stream', { entries: [['5-0', ['f', 'v']]] }, 0, true),
      part('s', 'stream', { entries: [['4-0', ['f', 'v']]], lastId: '5-0', entriesAdded: 2, maxDeletedId: '0-0', groups: [] }, 1, false),
    ]);
    await expectRejected(file, 3, /stream entry 0 id 4-0 is not after 5-0/);
  });

  it('a stream lastId below its last entry', async () => {
    const file = signed([rec('s', 'stream', { entries: [['5-0', ['f', 'v']]], lastId: '4-0', entriesAdded: 1, maxDeletedId: '0-0', groups: [] })]);
    await expectRejected(file, 2, /"lastId" 4-0 is below the last entry 5-0/);
  });

  it('expireAtMs out of range', async () => {
    const file = signed([rec('a', 'string', 'x', { expireAtMs: 1e20 })]);
    await expectRejected(file, 2, /"expireAtMs" .* is out of range/);
  });

  it('the same key twice', async () => {
    const file = signed([rec('a', 'string', 'x'), rec('b', 'string', 'y'), rec('a', 'string', 'z')]);
    await expectRejected(file, 4, /key "a" in db 0 again \(first on line 2\)/);
  });

  it('the same key twice, once as a multi-part key', async () => {
    const file = signed([rec('a', 'list', ['x']), part('a', 'list', ['y'], 0, true), part('a', 'list', ['z'], 1, false)]);
    await expectRejected(file, 3, /key "a" in db 0 again \(first on line 2\)/);
  });

  it('bytes that are not UTF-8 in a text field', async () => {
    const line = Buffer.concat([Buffer.from('{"key":"a","db":0,"type":"string","expireAtMs":null,"capturedAtMs":1764460800000,"value":"x'), Buffer.from([0xff]), Buffer.from('"}')]);
    const file = signed([rec('ok', 'string', 'x'), line]);
    await expectRejected(file, 3, /not valid UTF-8/);
  });

  it('a lone surrogate escape in a text field', async () => {
    const file = signed([rec('ok', 'string', 'x'), '{"key":"a","db":0,"type":"string","expireAtMs":null,"capturedAtMs":1764460800000,"value":"x\\ud800y"}']);
    await expectRejected(file, 3, /lone surrogate/);
  });

  it('\\u0000 and other escapes decode the same in restore and diff', async () => {
    const file = signed([rec('nul', 'string', 'a\u0000b'), rec('k\u0000ey', 'hash', [['f\u0000', 'v\u0001\u001f']]), rec('esc', 'list', ['\\\\', '"', '\u00e9\u{1F389}'])]);
    expect((await runCli(['backup', 'verify', file])).code).toBe(0);
    const r = await runCli(['restore', file, '--yes', '--url', server.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(await redis.getBuffer('nul')).toEqual(Buffer.from('a\u0000b'));
    expect(await redis.hgetall('k\u0000ey')).toEqual({ 'f\u0000': 'v\u0001\u001f' });
    expect(await redis.lrange('esc', 0, -1)).toEqual(['\\\\', '"', '\u00e9\u{1F389}']);
    const d = await runCli(['backup', 'diff', file, '--json', '--url', server.url]);
    expect(d.code, d.stdout).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ same: 3, missing: [], extra: [], different: [] });
  });

  it('an empty collection is counted as skipped, not created', async () => {
    const file = signed([rec('e', 'list', []), rec('h', 'hash', []), rec('ok', 'set', ['m'])]);
    expect((await runCli(['backup', 'verify', file])).code).toBe(0);
    const r = await runCli(['restore', file, '--yes', '--json', '--url', server.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ keys: 3, created: 1, empty: 2 });
    expect(await allKeys(redis)).toEqual(['ok']);
  });
});

describe('restore never leaves a temporary key', () => {
  it('a big key that the server refuses midway (OOM) is cleaned up, and the error says how far it got', async () => {
    const big = Array.from({ length: 3000 }, (_, i) => `${'x'.repeat(100)}${i}`);
    const file = signed([rec('small', 'string', 'x'), part('big', 'list', big.slice(0, 1000), 0, true), part('big', 'list', big.slice(1000, 2000), 1, true), part('big', 'list', big.slice(2000), 2, false)]);
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    await redis.config('SET', 'maxmemory', String(used + 150_000));
    try {
      const r = await runCli(['restore', file, '--yes', '--json', '--url', server.url]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/OOM/);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', command: 'restore', changed: 1 });
      expect(r.stderr).toMatch(/; 1 keys changed before it stopped$/m);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    expect(await allKeys(redis)).toEqual(['small']);
  });
});

describe('restore from stdin with --fail-on-existing (item 8), and --db-map (item 9)', () => {
  it('restore - --fail-on-existing is refused: stdin cannot be read twice', async () => {
    const file = signed([rec('a', 'string', 'x')]);
    const r = await runCli(['restore', '-', '--fail-on-existing', '--yes', '--url', server.url], { input: Buffer.from(await import('node:fs').then((f) => f.readFileSync(file))) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--fail-on-existing needs a file/);
    expect(await redis.dbsize()).toBe(0);
  });

  it('--db-map with one source twice is exit 2', async () => {
    const file = signed([rec('a', 'string', 'x')]);
    const r = await runCli(['restore', file, '--db-map', '0:3,0:4', '--yes', '--url', server.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--db-map: database 0 is mapped twice/);
  });
});
