import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import { allKeys, clientFor, startCluster, startServer, type LocalServer } from '../helpers/redis.js';
import { BIN, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'redis-ops-restore-'));
let source: LocalServer;
let target: LocalServer;
let src: Redis;
let dst: Redis;
const file = join(dir, 'base.jsonl');

beforeAll(async () => {
  source = await startServer();
  target = await startServer();
  src = clientFor(source);
  dst = clientFor(target);
  const p = src.pipeline();
  p.set('a', 'from-backup');
  p.set('b', 'from-backup');
  p.set('ttl:long', 'x', 'EX', 3600);
  p.rpush('big', ...Array.from({ length: 2500 }, (_, i) => `e${i}`));
  p.hset('h', 'f', 'v');
  await p.exec();
  const r = await runCli(['backup', '--url', source.url, '-o', file]);
  expect(r.code).toBe(0);
});

afterAll(async () => {
  src.disconnect();
  dst.disconnect();
  await source.stop();
  await target.stop();
});

beforeEach(async () => {
  await dst.flushall();
});

const restore = (...args: string[]) => runCli(['restore', ...args, '--url', target.url, '--json']);

describe('restore modes', () => {
  it('--skip-existing (default) never touches an existing key', async () => {
    await dst.set('a', 'live');
    await dst.rpush('big', 'live');
    const r = await restore(file, '--yes');
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 3, skipped: 2, replaced: 0 });
    expect(await dst.get('a')).toBe('live');
    expect(await dst.lrange('big', 0, -1)).toEqual(['live']);
    // No temporary keys are left behind.
    expect((await allKeys(dst)).filter((k) => k.startsWith('redis-ops:restore'))).toEqual([]);
  });

  it('--replace swaps existing keys', async () => {
    await dst.set('a', 'live');
    await dst.rpush('big', 'live');
    const r = await restore(file, '--yes', '--replace');
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 3, replaced: 2, skipped: 0 });
    expect(await dst.get('a')).toBe('from-backup');
    expect(await dst.llen('big')).toBe(2500);
  });

  it('--fail-on-existing writes nothing when any key exists', async () => {
    await dst.set('h', 'live');
    const r = await restore(file, '--yes', '--fail-on-existing');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exists (--fail-on-existing): nothing was restored');
    expect(await allKeys(dst)).toEqual(['h']);
  });

  it('--dry-run counts what would happen and changes nothing', async () => {
    await dst.set('a', 'live');
    const r = await restore(file, '--dry-run');
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, created: 4, skipped: 1 });
    expect(await allKeys(dst)).toEqual(['a']);
  });

  it('off a terminal without --yes it refuses and writes nothing', async () => {
    const r = await restore(file);
    expect(r.code).toBe(2);
    expect(await dst.dbsize()).toBe(0);
  });

  it('--match and --type restore a subset', async () => {
    const r = await restore(file, '--yes', '--match', 'ttl:*', '--type', 'string');
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 1, filtered: 4 });
    expect(await allKeys(dst)).toEqual(['ttl:long']);
  });
});

describe('restore budgets', () => {
  it('--limit N restores exactly N keys, however many are in flight (exit 3); --dry-run --limit counts exactly N', async () => {
    const many = join(dir, 'many.jsonl');
    const p = src.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`many:${i}`, 'v');
    await p.exec();
    expect((await runCli(['backup', '--url', source.url, '-o', many, '--match', 'many:*'])).code).toBe(0);
    await src.del(...Array.from({ length: 3000 }, (_, i) => `many:${i}`));
    const r = await restore(many, '--yes', '--limit', '1000');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 1000, stoppedBy: 'limit' });
    expect(await dst.dbsize()).toBe(1000);
    // Keys left alone do not use up the budget: 1000 exist, 1000 more are created.
    const again = await restore(many, '--yes', '--limit', '1000');
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 1000, skipped: 1000 });
    expect(await dst.dbsize()).toBe(2000);
    const dry = await restore(many, '--dry-run', '--limit', '700');
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, created: 700, stoppedBy: 'limit' });
  });
});

describe('restore TTL modes', () => {
  function backupWith(expireAtMs: number, capturedAtMs: number): string {
    const lines = [
      JSON.stringify({ format: 'redis-ops-backup', version: 1, createdAt: new Date(capturedAtMs).toISOString(), source: { address: 'x', version: '7.0.15', mode: 'standalone' }, dbs: [0], filters: { match: [], type: [] } }),
      JSON.stringify({ key: 'k', db: 0, type: 'string', expireAtMs, capturedAtMs, value: 'v' }),
    ];
    const h = createHash('sha256');
    for (const l of lines) h.update(`${l}\n`);
    lines.push(JSON.stringify({ trailer: true, records: 1, sha256: h.digest('hex') }));
    const f = join(dir, `ttl-${expireAtMs}-${capturedAtMs}.jsonl`);
    writeFileSync(f, `${lines.join('\n')}\n`);
    return f;
  }

  it('absolute keeps the original expiry instant', async () => {
    const at = Date.now() + 600_000;
    await restore(backupWith(at, Date.now() - 3_600_000), '--yes');
    expect(Math.abs(Number(await dst.call('PEXPIRETIME', 'k')) - at)).toBeLessThan(5);
  });

  it('absolute skips keys already past their expiry, and counts them', async () => {
    const r = await restore(backupWith(Date.now() - 1000, Date.now() - 60_000), '--yes');
    expect(JSON.parse(r.stdout)).toMatchObject({ expired: 1, created: 0 });
    expect(await dst.exists('k')).toBe(0);
  });

  it('relative gives the TTL that was left at backup time', async () => {
    const captured = Date.now() - 3_600_000;
    await restore(backupWith(captured + 120_000, captured), '--yes', '--ttl', 'relative');
    const ttl = await dst.pttl('k');
    expect(ttl).toBeGreaterThan(118_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('none restores without expiry', async () => {
    await restore(backupWith(Date.now() + 600_000, Date.now()), '--yes', '--ttl', 'none');
    expect(await dst.pttl('k')).toBe(-1);
  });
});

describe('restore reads the file two ways', () => {
  // A verified file is applied from its bytes (no JSON.parse) when a record is
  // in the plain form redis-ops writes; stdin and anything unusual are parsed.
  // Both must give the same keys, byte for byte.
  const future = Date.now() + 3_600_000;
  const records = [
    { key: 'esc', type: 'string', value: 'a "quoted" \\ back\nslash\ttab/' },
    { key: 'uni', type: 'string', value: 'héllo ✓ 😀' },
    { key: 'ctl', type: 'string', value: 'bell\u0007' },
    { key: 'empty', type: 'string', value: '' },
    { key: 'k"q\\', type: 'string', value: 'escaped key' },
    { key: 'ttl', type: 'string', value: 'v', expireAtMs: future },
    { key: 'bin', type: 'string', value: { b64: Buffer.from([0, 0xff, 0x80]).toString('base64') } },
    { key: 'list', type: 'list', value: ['', 'ü', 'a"b', 'a'] },
    { key: 'set', type: 'set', value: ['x', 'y', 'x'] },
    { key: 'hash', type: 'hash', value: [['f', '1'], ['g', 'line\nbreak'], ['f', '2']] },
    { key: 'hashttl', type: 'hash', value: [['f', 'v']], expireAtMs: future },
    { key: 'zset', type: 'zset', value: [['hi', 'inf'], ['lo', '-inf'], ['mid', '1.5'], ['big', '1e300'], ['tenth', '0.10000000000000001']] },
    { key: 'nothing', type: 'set', value: [] },
  ].map((r) => ({ key: r.key, db: 0, type: r.type, expireAtMs: r.expireAtMs ?? null, capturedAtMs: Date.now(), value: r.value }));
  const lines = [
    JSON.stringify({ format: 'redis-ops-backup', version: 1, createdAt: new Date().toISOString(), source: { address: 'x', version: '7.0.15', mode: 'standalone' }, dbs: [0], filters: { match: [], type: [] } }),
    ...records.map((r) => JSON.stringify(r)),
  ];
  const h = createHash('sha256');
  for (const l of lines) h.update(`${l}\n`);
  lines.push(JSON.stringify({ trailer: true, records: records.length, sha256: h.digest('hex') }));
  const text = `${lines.join('\n')}\n`;
  const twoWays = join(dir, 'two-ways.jsonl');

  async function contents(): Promise<Record<string, unknown>> {
    return {
      esc: await dst.get('esc'),
      uni: await dst.get('uni'),
      ctl: await dst.get('ctl'),
      empty: await dst.get('empty'),
      escapedKey: await dst.get('k"q\\'),
      ttl: [await dst.get('ttl'), Number(await dst.call('PEXPIRETIME', 'ttl'))],
      bin: (await dst.getBuffer('bin'))?.toString('hex'),
      list: await dst.lrange('list', 0, -1),
      set: (await dst.smembers('set')).sort(),
      hash: await dst.hgetall('hash'),
      hashttl: [await dst.hgetall('hashttl'), Number(await dst.call('PEXPIRETIME', 'hashttl'))],
      zset: await dst.zrange('zset', 0, -1, 'WITHSCORES'),
      nothing: await dst.exists('nothing'),
      keys: await dst.dbsize(),
    };
  }
  const expected = {
    esc: 'a "quoted" \\ back\nslash\ttab/',
    uni: 'héllo ✓ 😀',
    ctl: 'bell\u0007',
    empty: '',
    escapedKey: 'escaped key',
    ttl: ['v', future],
    bin: '00ff80',
    list: ['', 'ü', 'a"b', 'a'],
    set: ['x', 'y'],
    hash: { f: '2', g: 'line\nbreak' },
    hashttl: [{ f: 'v' }, future],
    zset: ['lo', '-inf', 'tenth', '0.10000000000000001', 'mid', '1.5', 'big', '1.0000000000000001e+300', 'hi', 'inf'],
    nothing: 0,
    keys: 12,
  };

  it('a verified file and stdin restore the same bytes, duplicates keeping the last', async () => {
    writeFileSync(twoWays, text);
    const fromFile = await restore(twoWays, '--yes');
    expect(fromFile.code, fromFile.stderr).toBe(0);
    // The empty set is counted as empty, not created: Redis has no empty collections (issue 14).
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ records: 13, created: 12, empty: 1, skipped: 0 });
    expect(await contents()).toEqual(expected);
    await dst.flushall();
    const fromStdin = await runCli(['restore', '-', '--url', target.url, '--yes', '--json'], { input: text });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(await contents()).toEqual(expected);
  });

  it('--replace rewrites strings and collections, keeping the expiry of the backup', async () => {
    writeFileSync(twoWays, text);
    await dst.set('esc', 'live');
    await dst.rpush('hash', 'a list now');
    await dst.set('ttl', 'live');
    const r = await restore(twoWays, '--yes', '--replace');
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 9, replaced: 3, empty: 1, skipped: 0 });
    expect(await contents()).toEqual(expected);
  });
});

describe('bad input leaves the target unchanged', () => {
  const good = () => readFileSync(file, 'utf8').trimEnd().split('\n');
  const write = (name: string, lines: string[]) => {
    const f = join(dir, name);
    writeFileSync(f, `${lines.join('\n')}\n`);
    return f;
  };
  const cases: [string, () => string, RegExp][] = [
    ['a truncated file', () => write('trunc.jsonl', good().slice(0, -2)), /no trailer: the backup is truncated/],
    ['a corrupted line', () => write('corrupt.jsonl', good().map((l, i) => (i === 2 ? l.slice(0, 20) : l))), /line 3: not valid JSON/],
    ['an edited value (wrong checksum)', () => write('edited.jsonl', good().map((l) => l.replace('from-backup', 'FROM-backup'))), /checksum mismatch/],
    ['an unknown format version', () => write('version.jsonl', good().map((l, i) => (i === 0 ? l.replace('"version":1', '"version":99') : l))), /line 1: format version 99 is not supported/],
    ['an unknown record type', () => write('type.jsonl', good().map((l) => l.replace('"type":"hash"', '"type":"ReJSON-RL"'))), /unknown record type "ReJSON-RL"/],
    ['invalid base64', () => write('b64.jsonl', good().map((l) => l.replace('"key":"a"', '"key64":"!!!"'))), /"key64" is not valid base64/],
    ['a score that is not a number', () => write('score.jsonl', [...good().slice(0, 1), JSON.stringify({ key: 'z', db: 0, type: 'zset', expireAtMs: null, capturedAtMs: 1, value: [['m', 'abc']] }), ...good().slice(-1)]), /score "abc" is not a number/],
    ['a wrong value shape', () => write('shape.jsonl', good().map((l) => l.replace('"value":[["f","v"]]', '"value":{"f":"v"}'))), /a hash value must be a list/],
    ['not a backup at all', () => write('other.jsonl', ['{"hello": "world"}']), /not a redis-ops backup/],
    ['an empty file', () => write('empty.jsonl', []), /empty: not a backup|not a redis-ops backup|not valid JSON/],
    ['corrupt gzip', () => { const f = join(dir, 'bad.jsonl.gz'); writeFileSync(f, gzipSync(readFileSync(file)).subarray(0, 200)); return f; }, /gzip data is truncated or corrupt|no trailer/],
  ];
  it.each(cases)('%s: a clear error naming the line, exit 2, nothing written', async (_name, make, message) => {
    const f = make();
    const r = await restore(f, '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await dst.dbsize()).toBe(0);
    const v = await runCli(['backup', 'verify', f]);
    expect(v.code).toBe(2);
  });

  it('stdin is applied as it streams and stops at the first bad record, saying how many were applied', async () => {
    const lines = good();
    lines.splice(3, 0, '{broken');
    const r = await runCli(['restore', '-', '--url', target.url, '--yes'], { input: `${lines.join('\n')}\n` });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin line 4: not valid JSON; stopped after applying 2 record\(s\)/);
  });

  it('a missing file is a usage error', async () => {
    const r = await restore(join(dir, 'nope.jsonl'), '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such file');
  });
});

describe('backup under load and interruption', () => {
  it('a backup taken while writers modify keys completes and verifies', async () => {
    const s = await startServer();
    const c = clientFor(s);
    const p = c.pipeline();
    for (let i = 0; i < 20000; i++) p.set(`k:${i}`, `v${i}`);
    await p.exec();
    let stop = false;
    const writer = (async () => {
      const w = clientFor(s);
      let i = 0;
      while (!stop) {
        await w.pipeline().set(`k:${i % 20000}`, `new${i}`).del(`k:${(i * 7) % 20000}`).rpush('growing', ...Array.from({ length: 50 }, () => 'x')).exec();
        i++;
      }
      w.disconnect();
    })();
    const f = join(dir, 'busy.jsonl');
    const r = await runCli(['backup', '--url', s.url, '-o', f, '--json', '--count', '100']);
    stop = true;
    await writer;
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.complete).toBe(true);
    expect((await runCli(['backup', 'verify', f])).code).toBe(0);
    c.disconnect();
    await s.stop();
  });

  it('a backup killed midway leaves no file at the final name', async () => {
    const s = await startServer();
    const c = clientFor(s);
    const p = c.pipeline();
    for (let i = 0; i < 200; i++) p.rpush(`list:${i}`, ...Array.from({ length: 5000 }, (_, j) => `element-${j}`));
    await p.exec();
    const f = join(dir, 'killed.jsonl');
    const child = spawn(process.execPath, [BIN, 'backup', '--url', s.url, '-o', f], { stdio: 'ignore' });
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (readdirSync(dir).some((x) => x.startsWith('killed.jsonl.partial'))) { clearInterval(t); resolve(); } }, 5); });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(existsSync(f)).toBe(false);
    // Ctrl-C: stops, cleans up the partial file, exits 3.
    const child2 = spawn(process.execPath, [BIN, 'backup', '--url', s.url, '-o', f], { stdio: 'ignore' });
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (readdirSync(dir).some((x) => x.startsWith('killed.jsonl.partial-' + child2.pid))) { clearInterval(t); resolve(); } }, 5); });
    const code = await new Promise((r) => { child2.on('exit', r); child2.kill('SIGINT'); });
    expect(code).toBe(3);
    expect(existsSync(f)).toBe(false);
    expect(readdirSync(dir).filter((x) => x.startsWith(`killed.jsonl.partial-${child2.pid}`))).toEqual([]);
    c.disconnect();
    await s.stop();
  });
});

describe('cluster', () => {
  it('a dry run into a cluster checks each key on its own node', async () => {
    const cluster = await startCluster();
    try {
      const r = await runCli(['restore', file, '--url', cluster.url, '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, created: 5, replaced: 0, skipped: 0 });
    } finally {
      await cluster.stop();
    }
  });

  it('backs up every master and restores into a 3-master cluster, keys to their slots', async () => {
    const cluster = await startCluster(3);
    const cc = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
    try {
      const r = await runCli(['restore', file, '--url', cluster.url, '--yes', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ created: 5 });
      expect(await cc.get('a')).toBe('from-backup');
      expect(await cc.llen('big')).toBe(2500);
      // And back: a backup of the cluster holds every key, and diff finds no difference with the source backup.
      const f2 = join(dir, 'cluster.jsonl');
      const b = await runCli(['backup', '--url', cluster.url, '-o', f2, '--json']);
      expect(JSON.parse(b.stdout)).toMatchObject({ keys: 5 });
      const d = await runCli(['backup', 'diff', file, '--url', cluster.url, '--json']);
      expect(d.code).toBe(0);
      expect(JSON.parse(d.stdout)).toMatchObject({ same: 5, missing: [], extra: [], different: [] });
    } finally {
      cc.disconnect();
      await cluster.stop();
    }
  });
});

describe('backup diff', () => {
  it('reports missing, extra and different keys, and exits 1 when they differ', async () => {
    await runCli(['restore', file, '--url', target.url, '--yes']);
    const same = await runCli(['backup', 'diff', file, '--url', target.url, '--json']);
    expect(same.code).toBe(0);
    await dst.del('a');
    await dst.set('extra', '1');
    await dst.rpush('big', 'one more');
    const d = await runCli(['backup', 'diff', file, '--url', target.url, '--json']);
    expect(d.code).toBe(1);
    expect(JSON.parse(d.stdout)).toMatchObject({ missing: [{ db: 0, key: 'a' }], extra: [{ db: 0, key: 'extra' }], different: [{ db: 0, key: 'big', reason: 'value' }] });
  });
});
