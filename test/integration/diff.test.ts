/**
 * `diff --from A --to B` (issue 19): a standalone server and a 3-master
 * cluster holding the same data (put there by backup and restore) agree; each
 * planted difference is found, and the gate opens again once they are fixed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import { clientFor, startCluster, startServer, type LocalCluster, type LocalServer } from '../helpers/redis.js';
import { ndjson, runCli } from '../helpers/cli.js';
import { BINARY_KEY, fillEveryType } from '../helpers/fixtures.js';

let a: LocalServer;
let b: LocalCluster;
let ra: Redis;
let rb: Cluster;
const dir = mkdtempSync(join(tmpdir(), 'ro-diff-'));
const BIN = BINARY_KEY;

beforeAll(async () => {
  a = await startServer();
  b = await startCluster();
  ra = clientFor(a);
  rb = new Cluster([{ host: '127.0.0.1', port: b.nodes[0]!.port }]);
  await fillEveryType(ra);
  await ra.set('retype', 'string now');
  const file = join(dir, 'a.jsonl');
  expect((await runCli(['backup', '-o', file, '--url', a.url])).code).toBe(0);
  const restored = await runCli(['restore', file, '--url', b.url, '--yes']);
  expect(restored.code, restored.stderr).toBe(0);
});
afterAll(async () => {
  ra.disconnect();
  rb.disconnect();
  await b.stop();
  await a.stop();
});

describe('diff', () => {
  it('a server and a cluster holding the same data agree: exit 0, no differences', async () => {
    const r = await runCli(['diff', '--from', a.url, '--to', b.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ keysFrom: 9, keysTo: 9, same: 9, counts: { missing: 0, extra: 0, type: 0, value: 0, ttl: 0 }, complete: true, sampled: null });
    // A sample reads each key on the cluster node that holds it.
    const sample = await runCli(['diff', '--from', a.url, '--to', b.url, '--sample', '5', '--json']);
    expect(sample.code, sample.stderr).toBe(0);
    expect(JSON.parse(sample.stderr)).toMatchObject({ sampled: 5, same: 5 });
  });

  it('finds a missing key, an extra key, another type, a changed hash field, a changed TTL and a changed stream group; exit 0 once fixed', async () => {
    await rb.del('s:1');
    await rb.set('extra:1', 'x');
    await rb.del('retype');
    await rb.sadd('retype', 'a set now');
    await rb.hset('h:1', 'f2', 'changed');
    await rb.expire('s:ttl', 60);
    await rb.xack('st:1', 'g', '1-1');
    const r = await runCli(['diff', '--from', a.url, '--to', b.url, '--json']);
    expect(r.code).toBe(1);
    const lines = ndjson(r.stdout) as { kind: string; key: string; from?: unknown; to?: unknown }[];
    expect(lines.map((l) => [l.kind, l.key])).toEqual([
      ['missing', 's:1'], ['extra', 'extra:1'], ['type', 'retype'], ['value', 'h:1'], ['value', 'st:1'], ['ttl', 's:ttl'],
    ]);
    expect(lines[2]).toMatchObject({ from: 'string', to: 'set' });
    const ttl = lines[5] as { from: number; to: number };
    expect(ttl.from - ttl.to).toBeGreaterThan(3_000_000);
    expect(JSON.parse(r.stderr).counts).toEqual({ missing: 1, extra: 1, type: 1, value: 2, ttl: 1 });

    const text = await runCli(['diff', '--from', a.url, '--to', b.url, '--show', '2']);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('missing  s:1\nextra    extra:1\n… and 4 more (--show N lists more; --json lists all)\n');
    expect(text.stderr).toMatch(/: 4 same; 1 missing on --to, 1 extra on --to, 1 of another type, 2 with another value, 1 with another expiry\n$/);

    // Fix --to: the backup restored over it again, the extra key removed.
    await rb.del('extra:1');
    await rb.del('retype');
    const file = join(dir, 'a2.jsonl');
    expect((await runCli(['backup', '-o', file, '--url', a.url])).code).toBe(0);
    expect((await runCli(['restore', file, '--url', b.url, '--yes', '--replace'])).code).toBe(0);
    const fixed = await runCli(['diff', '--from', a.url, '--to', b.url]);
    expect(fixed.code, fixed.stdout).toBe(0);
  });

  it('binary keys, patterns and two databases of one server', async () => {
    await ra.select(1);
    await ra.set(BIN, Buffer.from([0x00, 0xfe]));
    await ra.set('s:1', 'other');
    await ra.select(0);
    const r = await runCli(['diff', '--from', `${a.url}/0`, '--to', `${a.url}/1`, 's:1', '--json']);
    expect(r.code).toBe(1);
    expect(ndjson(r.stdout)).toEqual([{ kind: 'value', key: 's:1' }]);
    const bin = await runCli(['diff', '--from', `${a.url}/0`, '--to', `${a.url}/1`, '--type', 'string', '--json']);
    expect(ndjson(bin.stdout)).toEqual([{ kind: 'missing', key: 'retype' }, { kind: 'missing', key: 's:ttl' }, { kind: 'value', key: 's:1' }]);
  });

  it('--sample N compares N random keys of --from, and says so', async () => {
    await ra.select(2);
    await ra.mset('x', '1', 'y', '2');
    await ra.select(3);
    await ra.mset('x', '1', 'y', 'other', 'only-here', '3');
    await ra.select(0);
    const r = await runCli(['diff', '--from', `${a.url}/2`, '--to', `${a.url}/3`, '--sample', '2', '--json']);
    expect(r.code).toBe(1);
    expect(ndjson(r.stdout)).toEqual([{ kind: 'value', key: 'y' }]);
    expect(JSON.parse(r.stderr)).toMatchObject({ sampled: 2, same: 1, counts: { extra: 0 } });
    const text = await runCli(['diff', '--from', `${a.url}/2`, '--to', `${a.url}/3`, '--sample', '2']);
    expect(text.stderr).toMatch(/\(a sample of 2 random keys of --from\): 1 same/);
  });

  it('bad input is exit 2 and names the problem', async () => {
    const none = await runCli(['diff', '--to', b.url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/required option '--from <url\|profile>' not specified/);
    const same = await runCli(['diff', '--from', a.url, '--to', a.url]);
    expect(same.code).toBe(2);
    expect(same.stderr).toBe(`error: --from and --to are the same database (127.0.0.1:${a.port}/0): nothing to compare\n`);
    const noProfile = await runCli(['diff', '--from', a.url, '--to', 'nosuchprofile']);
    expect(noProfile.code).toBe(2);
    expect(noProfile.stderr).toMatch(/nosuchprofile/);
  });
});
