import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startCluster, startServer, type LocalServer } from '../helpers/redis.js';
import { ndjson, runCli } from '../helpers/cli.js';
import { snapshotAll } from '../helpers/snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'redis-ops-dbs-'));
let server: LocalServer;
const clients: Redis[] = [];
const db = (n: number) => clients[n];
// DB 0: queue, DB 1: sessions and jobs, DB 2: progress, DB 3 empty, DB 4: cache (seed 001's layout).
const layout: Record<number, number> = { 0: 30, 1: 20, 2: 10, 4: 5 };

beforeAll(async () => {
  server = await startServer();
  for (let i = 0; i <= 5; i++) clients.push(clientFor(server, i));
  for (let i = 0; i < layout[0]; i++) await db(0).rpush(`celery:${i}`, 'task');
  for (let i = 0; i < layout[1]; i++) await db(1).hset(`job:${i}`, 'status', 'pending');
  for (let i = 0; i < layout[2]; i++) await db(2).set(`progress:${i}:file_00${i % 3}`, String(i), 'EX', 86400);
  for (let i = 0; i < layout[4]; i++) await db(4).set(`cache:model:${i}`, 'x', 'EX', 300);
});

afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  await server.stop();
});

describe('--all-dbs', () => {
  it('keys scan walks every non-empty DB, each record with its db', async () => {
    const r = await runCli(['keys', 'scan', '--url', server.url, '--all-dbs', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const recs = ndjson(r.stdout);
    const perDb: Record<number, number> = {};
    for (const x of recs) perDb[x.db as number] = (perDb[x.db as number] ?? 0) + 1;
    expect(perDb).toEqual(layout);
    expect(recs.filter((x) => x.db === 2).every((x) => String(x.key).startsWith('progress:'))).toBe(true);
    // Without --all-dbs: only the connection's database.
    const one = ndjson((await runCli(['keys', 'scan', '--url', `${server.url}/1`, '--json'])).stdout);
    expect(one).toHaveLength(layout[1]);
    expect(one.every((x) => x.db === 1)).toBe(true);
  });

  it('keys stats --all-dbs summarises each DB first; its counts equal INFO keyspace', async () => {
    const r = await runCli(['keys', 'stats', '--url', server.url, '--all-dbs', '--json']);
    const s = JSON.parse(r.stdout);
    const info = await db(0).info('keyspace');
    const fromInfo = Object.fromEntries([...info.matchAll(/db(\d+):keys=(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]));
    expect(Object.fromEntries(s.dbs.map((d: { db: number; dbsize: number }) => [d.db, d.dbsize]))).toEqual(fromInfo);
    expect(s.dbs.map((d: { db: number; scanned: number }) => [d.db, d.scanned])).toEqual([[0, 30], [1, 20], [2, 10], [4, 5]]);
    expect(s.dbs.find((d: { db: number }) => d.db === 4)).toMatchObject({ expiringShare: 1, topPatterns: ['cache:model:*'] });
    expect(s.scanned).toBe(65);
    expect(s.groups.map((g: { db: number; pattern: string }) => `${g.db} ${g.pattern}`).sort()).toEqual(['0 celery:*', '1 job:*', '2 progress:*:file_*', '4 cache:model:*']);
    const text = await runCli(['keys', 'stats', '--url', server.url, '--all-dbs']);
    expect(text.stdout).toMatch(/Databases\n.*\n\s*db0\s+30/);
  });

  it('backup --all-dbs holds every DB; restore puts each record back into its DB', async () => {
    const file = join(dir, 'all.jsonl');
    const b = await runCli(['backup', '--url', server.url, '--all-dbs', '-o', file, '--json']);
    expect(JSON.parse(b.stdout)).toMatchObject({ keys: 65 });
    const v = JSON.parse((await runCli(['backup', 'verify', file, '--json'])).stdout);
    expect(v.header.dbs).toEqual([0, 1, 2, 4]);
    expect(v.dbs).toEqual({ 0: 30, 1: 20, 2: 10, 4: 5 });
    const fresh = await startServer();
    try {
      const r = await runCli(['restore', file, '--url', fresh.url, '--yes', '--json']);
      expect(JSON.parse(r.stdout)).toMatchObject({ created: 65 });
      for (const n of [0, 1, 2, 3, 4]) {
        const a = clientFor(server, n);
        const c = clientFor(fresh, n);
        expect(await snapshotAll(c), `db ${n}`).toEqual(await snapshotAll(a));
        a.disconnect();
        c.disconnect();
      }
      const d = await runCli(['backup', 'diff', file, '--url', fresh.url, '--json']);
      expect(JSON.parse(d.stdout)).toMatchObject({ same: 65, missing: [], extra: [], different: [] });
    } finally {
      await fresh.stop();
    }
  });

  it('--db-map moves DB 1 to DB 5, and --db restores one DB only', async () => {
    const file = join(dir, 'all2.jsonl');
    await runCli(['backup', '--url', server.url, '--all-dbs', '-o', file]);
    const fresh = await startServer();
    const c1 = clientFor(fresh, 1);
    const c5 = clientFor(fresh, 5);
    const c0 = clientFor(fresh, 0);
    try {
      const r = await runCli(['restore', file, '--url', fresh.url, '--yes', '--db-map', '1:5', '--json']);
      expect(JSON.parse(r.stdout)).toMatchObject({ created: 65 });
      expect(await c5.dbsize()).toBe(20);
      expect(await c1.dbsize()).toBe(0);
      expect(await c5.hget('job:3', 'status')).toBe('pending');
      await c0.flushall();
      const only = await runCli(['restore', file, '--url', fresh.url, '--db', '2', '--yes', '--json']);
      expect(JSON.parse(only.stdout)).toMatchObject({ created: 10, filtered: 55 });
      const info = await c0.info('keyspace');
      expect(info).toMatch(/db2:keys=10/);
      expect(info).not.toMatch(/db0:|db1:|db4:/);
    } finally {
      [c0, c1, c5].forEach((c) => c.disconnect());
      await fresh.stop();
    }
  });

  it('a database outside the server\'s `databases` is a clear usage error', async () => {
    const r = await runCli(['keys', 'scan', '--url', `${server.url}/99`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no such database');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--all-dbs against a cluster says it has only DB 0 and walks it', async () => {
    const cluster = await startCluster(3);
    try {
      const { Cluster } = await import('ioredis');
      const c = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
      await c.set('{x}:one', '1');
      c.disconnect();
      const r = await runCli(['keys', 'scan', '--url', cluster.url, '--all-dbs', '--json']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('is a cluster, which has only database 0: --all-dbs walks database 0');
      expect(ndjson(r.stdout).map((x) => [x.key, x.db])).toEqual([['{x}:one', 0]]);
      const s = await runCli(['keys', 'stats', '--url', cluster.url, '--all-dbs', '--json']);
      expect(JSON.parse(s.stdout).dbs).toEqual([expect.objectContaining({ db: 0, scanned: 1 })]);
      // A backup of several DBs restores into a cluster with --db 0: the other DBs are filtered out, not an error.
      const file = join(dir, 'into-cluster.jsonl');
      await runCli(['backup', '--url', server.url, '--all-dbs', '-o', file]);
      const into = await runCli(['restore', file, '--url', cluster.url, '--db', '0', '--yes', '--json']);
      expect(into.code, into.stderr).toBe(0);
      expect(JSON.parse(into.stdout)).toMatchObject({ created: 30, filtered: 35 });
    } finally {
      await cluster.stop();
    }
  });
});
