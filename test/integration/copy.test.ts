/**
 * `copy --from A --to B` (issue 19): a server copied into a 3-master cluster
 * with every type, a big list, binary keys and stream groups; read back from
 * both sides independently; killed with SIGKILL three times and resumed from
 * its checkpoint; budgets and refusals.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainableCommander, Redis } from 'ioredis';
import { allKeys, clientFor, startCluster, startServer, type LocalCluster, type LocalServer } from '../helpers/redis.js';
import { runCli, startCli, until } from '../helpers/cli.js';
import { snapshotAll } from '../helpers/snapshot.js';
import { fillEveryType } from '../helpers/fixtures.js';
import { openTarget } from '../../src/lib/connect/target.js';
import { copyKeys } from '../../src/lib/copy/copy.js';
import { Rails } from '../../src/lib/rails.js';
import { railsFrom } from '../../src/commands/railsFlags.js';

const dir = mkdtempSync(join(tmpdir(), 'ro-copy-'));

/** Every key of a deployment, read directly from each node: no redis-ops code involved. */
async function contents(nodes: LocalServer[]): Promise<Map<string, unknown>> {
  const all = new Map<string, unknown>();
  for (const n of nodes) {
    const c = clientFor(n);
    for (const [k, v] of await snapshotAll(c)) all.set(k, v);
    c.disconnect();
  }
  return all;
}

/** A new server holding the strings k:0 … k:<n-1> (values v0 …), and whatever `more` adds. */
async function serverWith(n: number, more?: (p: ChainableCommander) => void): Promise<LocalServer> {
  const server = await startServer();
  const c = clientFor(server);
  const p = c.pipeline();
  for (let i = 0; i < n; i++) p.set(`k:${i}`, `v${i}`);
  more?.(p);
  await p.exec();
  c.disconnect();
  return server;
}

describe('copy: a server into a 3-master cluster', () => {
  let a: LocalServer;
  let b: LocalCluster;
  let ra: Redis;
  beforeAll(async () => {
    a = await startServer();
    b = await startCluster();
    ra = clientFor(a);
    await fillEveryType(ra);
    // A big list: read in pages and written under a temporary name, then renamed.
    await ra.rpush('l:big', ...Array.from({ length: 25_000 }, (_, i) => `e${i}`));
    for (let i = 0; i < 2000; i++) await ra.set(`bulk:${i}`, `v${i}`);
  });
  afterAll(async () => {
    ra.disconnect();
    await b.stop();
    await a.stop();
  });

  it('a dry run says what it would create and writes nothing', async () => {
    const r = await runCli(['copy', '--from', a.url, '--to', b.url, '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, created: 2009, replaced: 0, skipped: 0, nodesDone: 1, nodes: 1 });
    expect((await contents(b.nodes)).size).toBe(0);
  });

  it('copies every key exactly: diff agrees, and so does reading both sides directly', async () => {
    const r = await runCli(['copy', '--from', a.url, '--to', b.url, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, created: 2009, replaced: 0, skipped: 0, nodesDone: 1, nodes: 1, resumed: false });
    expect((await runCli(['diff', '--from', a.url, '--to', b.url])).code).toBe(0);
    expect(await contents(b.nodes)).toEqual(await contents([a]));
    // Run again: every key exists, and is left alone.
    const again = await runCli(['copy', '--from', a.url, '--to', b.url, '--yes', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, skipped: 2009 });
  });

  it('refuses what would be wrong, before writing: no --yes off a terminal, the same database twice, another copy\'s checkpoint', async () => {
    const noYes = await runCli(['copy', '--from', a.url, '--to', b.url]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    const same = await runCli(['copy', '--from', a.url, '--to', a.url, '--yes']);
    expect(same.code).toBe(2);
    expect(same.stderr).toBe(`error: --from and --to are the same database (127.0.0.1:${a.port}/0): a copy onto itself would change nothing\n`);
    const ckpt = join(dir, 'other.ckpt');
    writeFileSync(ckpt, JSON.stringify({ format: 'redis-ops-copy-checkpoint', from: 'x:1/0', to: 'y:2/0', match: [], types: [], nodes: {}, updatedAt: '' }));
    const other = await runCli(['copy', '--from', a.url, '--to', b.url, '--yes', '--checkpoint', ckpt]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/is of another copy \(x:1\/0 → y:2\/0/);
  });
});

describe('copy: killed three times, resumed from the checkpoint', () => {
  let a: LocalServer;
  let b: LocalServer;
  beforeAll(async () => {
    a = await serverWith(6000, (p) => {
      // Lists: a redone page must never push their elements twice.
      for (let i = 0; i < 300; i++) p.rpush(`list:${i}`, 'a', 'b', 'c', String(i));
    });
    b = await startServer();
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
  });

  it('loses nothing and duplicates nothing', async () => {
    const ckpt = join(dir, 'resume.ckpt');
    const args = ['copy', '--from', a.url, '--to', b.url, '--yes', '--checkpoint', ckpt, '--count', '200'];
    const keysSaved = () => (existsSync(ckpt) ? Object.values((JSON.parse(readFileSync(ckpt, 'utf8')) as { nodes: Record<string, { keys: number }> }).nodes)[0]?.keys ?? 0 : 0);
    // Three kills at points of the run chosen at random (by progress, not by time).
    for (const share of [0.15, 0.4, 0.7].map((s) => s + Math.random() * 0.1)) {
      const run = startCli([...args, '--rate', '3000']);
      const before = keysSaved();
      await until(() => keysSaved() >= Math.max(before + 1, Math.floor(6300 * share)), `checkpoint past ${Math.round(share * 100)}%`);
      run.child.kill('SIGKILL');
      await run.done;
    }
    const saved = keysSaved();
    expect(saved).toBeGreaterThan(0);
    const last = await runCli(args);
    expect(last.code, last.stderr).toBe(0);
    const rb = clientFor(b);
    expect(await rb.dbsize()).toBe(6300);
    for (let i = 0; i < 300; i++) expect(await rb.lrange(`list:${i}`, 0, -1)).toEqual(['a', 'b', 'c', String(i)]);
    rb.disconnect();
    expect((await runCli(['diff', '--from', a.url, '--to', b.url])).code).toBe(0);
    expect(JSON.parse(readFileSync(ckpt, 'utf8')).nodes[`127.0.0.1:${a.port}/0`]).toMatchObject({ cursor: '0', done: true });
  });

  it('a budget stops it with exit 3 and says how to resume; the same command finishes', async () => {
    const rb = clientFor(b);
    const keys = await allKeys(rb);
    for (let i = 0; i < keys.length; i += 500) await rb.unlink(...keys.slice(i, i + 500));
    const ckpt = join(dir, 'budget.ckpt');
    const first = await runCli(['copy', '--from', a.url, '--to', b.url, '--yes', '--checkpoint', ckpt, '--limit', '1000', '--count', '200']);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/stopped \(limit\): the same command resumes from .*budget\.ckpt/);
    expect(await rb.dbsize()).toBe(1000);
    const rest = await runCli(['copy', '--from', a.url, '--to', b.url, '--yes', '--checkpoint', ckpt, '--count', '200', '--json']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout)).toMatchObject({ resumed: true, nodesDone: 1 });
    expect(await rb.dbsize()).toBe(6300);
    rb.disconnect();
  });
});

describe('copy: a cluster into a server, renamed', () => {
  let a: LocalCluster;
  let b: LocalServer;
  beforeAll(async () => {
    a = await startCluster();
    b = await startServer();
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
  });

  it('walks every source master, and --rename-prefix writes the keys under their new names', async () => {
    for (const n of a.nodes) {
      const c = clientFor(n);
      // Five keys on each node: names picked by the slot they hash to.
      const slots = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      let made = 0;
      for (let i = 0; made < 5 && i < 5000; i++) {
        const key = `prod:item:${n.port}:${i}`;
        const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
        const owner = slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
        if (owner !== n.port) continue;
        await c.rpush(key, 'a', 'b');
        made++;
      }
      c.disconnect();
    }
    const r = await runCli(['copy', '--from', a.url, '--to', b.url, '--rename-prefix', 'prod::staging:', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 15, nodes: 3, nodesDone: 3 });
    const rb = clientFor(b);
    const keys = await allKeys(rb);
    expect(keys.length).toBe(15);
    expect(keys.every((k) => /^staging:item:\d+:\d+$/.test(k))).toBe(true);
    expect(await rb.lrange(keys[0]!, 0, -1)).toEqual(['a', 'b']);
    // Within one database, overlapping prefixes would copy copies: refused.
    const loop = await runCli(['copy', '--from', b.url, '--to', b.url, '--rename-prefix', 'staging::staging:x:', '--yes']);
    expect(loop.code).toBe(2);
    expect(loop.stderr).toMatch(/must not overlap/);
    const fine = await runCli(['copy', '--from', b.url, '--to', b.url, '--rename-prefix', 'staging::qa:', '--yes', '--json']);
    expect(JSON.parse(fine.stdout)).toMatchObject({ created: 15 });
    rb.disconnect();
  });
});

describe('copy: every database, mapped', () => {
  let a: LocalServer;
  let b: LocalServer;
  let c: LocalCluster;
  beforeAll(async () => {
    a = await startServer();
    b = await startServer();
    c = await startCluster();
    const ra = clientFor(a);
    await ra.set('zero', '0');
    await ra.select(2);
    await ra.set('two', '2');
    ra.disconnect();
  });
  afterAll(async () => {
    await c.stop();
    await b.stop();
    await a.stop();
  });

  it('--all-dbs copies each database to the same number, or where --db-map says', async () => {
    const r = await runCli(['copy', '--from', a.url, '--to', b.url, '--all-dbs', '--db-map', '2:5', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 2, nodes: 2, nodesDone: 2 });
    const rb = clientFor(b);
    expect(await rb.get('zero')).toBe('0');
    await rb.select(5);
    expect(await rb.get('two')).toBe('2');
    await rb.select(2);
    expect(await rb.dbsize()).toBe(0);
    rb.disconnect();
  });

  it('into a cluster, a database not mapped to 0 is refused, naming it', async () => {
    const r = await runCli(['copy', '--from', a.url, '--to', c.url, '--all-dbs', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a cluster, which has only database 0: --from holds database 2 \(use --db-map 2:0\)/);
    const ok = await runCli(['copy', '--from', a.url, '--to', c.url, '--all-dbs', '--db-map', '2:0', '--yes', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ created: 2 });
  });
});

describe('copy: a page counts as copied only once the destination holds it', () => {
  let a: LocalServer;
  let b: LocalServer;
  beforeAll(async () => {
    a = await serverWith(5000);
    b = await startServer();
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
  });

  it('whenever a page is saved to the checkpoint, the destination already has every key counted so far', async () => {
    // Pages are read while the one before is written, so a page's lines wait
    // in a queue: its cursor must not be saved before they are all written.
    const spec = { host: '127.0.0.1', db: 0, tls: null, mode: 'auto', sentinels: [], timeoutMs: 5000 } as const;
    const from = await openTarget({ ...spec, port: a.port });
    const to = await openTarget({ ...spec, port: b.port });
    const rb = clientFor(b);
    // DBSIZE sent the moment a page is counted: later writes can only add to it.
    const seen: Promise<[number, number]>[] = [];
    const ckpt = join(dir, 'order.ckpt');
    const s = await copyKeys(from, to, new Rails(railsFrom('copy', { yes: true })), {
      match: [], types: [], count: 100, restore: { mode: 'skip', ttl: 'absolute' }, checkpoint: ckpt,
      onProgress: (copied) => { seen.push(rb.dbsize().then((size) => [copied, size])); },
    });
    const checks = await Promise.all(seen);
    rb.disconnect();
    await from.close();
    await to.close();
    expect(s).toMatchObject({ created: 5000, nodesDone: 1 });
    expect(checks.length).toBeGreaterThan(10);
    expect(checks.at(-1)).toEqual([5000, 5000]);
    expect(checks.filter(([copied, size]) => size < copied)).toEqual([]);
  });
});

describe('copy: a server into a server (strings as plain SET … NX)', () => {
  let a: LocalServer;
  let b: LocalServer;
  let ra: Redis;
  let rb: Redis;
  // Bytes that would end one command and begin another, were RESP framed by anything but lengths.
  const injection = Buffer.from('\r\n*1\r\n$8\r\nFLUSHALL\r\n');
  const exactAt = Date.now() + 7_200_123;
  beforeAll(async () => {
    a = await startServer();
    b = await startServer();
    ra = clientFor(a);
    rb = clientFor(b);
    await fillEveryType(ra);
    await ra.set('s:empty', '');
    await ra.set('s:utf8', 'grüße, 東京');
    await ra.set(Buffer.concat([Buffer.from('s:'), injection]), injection);
    await ra.set('s:exact', 'v', 'PXAT', exactAt);
  });
  afterAll(async () => {
    ra.disconnect();
    rb.disconnect();
    await b.stop();
    await a.stop();
  });
  const emptyB = async () => {
    const keys = await rb.keysBuffer('*');
    if (keys.length) await rb.unlink(...keys);
    await rb.call('CONFIG', 'RESETSTAT');
  };
  const stat = async (c: Redis, name: string) => Number(new RegExp(`${name}:calls=(\\d+)`).exec(await c.info('commandstats'))?.[1] ?? 0);

  it('copies every type exactly, strings with their exact expiry, each string by one SET … NX and no script', async () => {
    await emptyB();
    const strings = await runCli(['copy', '--from', a.url, '--to', b.url, 's:*', '--yes', '--json']);
    expect(strings.code, strings.stderr).toBe(0);
    expect(JSON.parse(strings.stdout)).toMatchObject({ created: 6, skipped: 0 });
    expect(await stat(rb, 'cmdstat_set')).toBe(6);
    expect(await stat(rb, 'cmdstat_evalsha') + (await stat(rb, 'cmdstat_eval'))).toBe(0);
    const all = await runCli(['copy', '--from', a.url, '--to', b.url, '--yes', '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ created: 6, skipped: 6 });
    expect(await contents([b])).toEqual(await contents([a]));
    expect(await rb.call('PEXPIRETIME', 's:exact')).toBe(exactAt);
    expect(await rb.call('PEXPIRETIME', 's:ttl')).toBe(await ra.call('PEXPIRETIME', 's:ttl'));
    expect(await rb.getBuffer(Buffer.concat([Buffer.from('s:'), injection]))).toEqual(injection);
    expect(await rb.info('errorstats')).toBe('# Errorstats\r\n');
  });

  it('--rename-prefix (records parsed, not passed through) writes the same bytes and expiries under the new names', async () => {
    await emptyB();
    const r = await runCli(['copy', '--from', a.url, '--to', b.url, '--rename-prefix', 's::t:', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 6, skipped: 0 });
    expect(await stat(rb, 'cmdstat_set')).toBe(6);
    expect(await stat(rb, 'cmdstat_evalsha') + (await stat(rb, 'cmdstat_eval'))).toBe(0);
    expect(await rb.getBuffer(Buffer.concat([Buffer.from('t:'), injection]))).toEqual(injection);
    expect(await rb.get('t:utf8')).toBe('grüße, 東京');
    expect(await rb.get('t:empty')).toBe('');
    expect(await rb.call('PEXPIRETIME', 't:exact')).toBe(exactAt);
    expect(await rb.dbsize()).toBe(6);
  });

  it('leaves an existing string alone by default, and stops at it with --fail-on-existing', async () => {
    await emptyB();
    await rb.set('s:1', 'theirs');
    const skip = await runCli(['copy', '--from', a.url, '--to', b.url, 's:*', '--yes', '--json']);
    expect(skip.code, skip.stderr).toBe(0);
    expect(JSON.parse(skip.stdout)).toMatchObject({ created: 5, skipped: 1 });
    expect(await rb.get('s:1')).toBe('theirs');
    const fail = await runCli(['copy', '--from', a.url, '--to', b.url, 's:1', '--yes', '--fail-on-existing']);
    expect(fail.code).toBe(2);
    expect(fail.stderr).toBe('error: key {"key":"s:1"} exists in db 0 (--fail-on-existing); keys restored before it stay restored\n');
    expect(await rb.get('s:1')).toBe('theirs');
  });

  it('--ttl relative gives a string the time it had left, --ttl none no expiry', async () => {
    await emptyB();
    const relative = await runCli(['copy', '--from', a.url, '--to', b.url, 's:exact', '--yes', '--ttl', 'relative']);
    expect(relative.code, relative.stderr).toBe(0);
    // The time left when the source was read: at most what it had when the test began, and not a minute less.
    const left = Number(await rb.pttl('s:exact'));
    expect(left).toBeLessThanOrEqual(7_200_123);
    expect(left).toBeGreaterThan(7_200_123 - 60_000);
    await emptyB();
    const none = await runCli(['copy', '--from', a.url, '--to', b.url, 's:exact', '--yes', '--ttl', 'none']);
    expect(none.code, none.stderr).toBe(0);
    expect(await rb.pttl('s:exact')).toBe(-1);
    expect(await rb.get('s:exact')).toBe('v');
  });
});
