import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { startCluster, type LocalCluster } from '../helpers/redis.js';
import { ndjson, runCli } from '../helpers/cli.js';

let cluster: LocalCluster;
let client: Cluster;
const N = 600;

beforeAll(async () => {
  cluster = await startCluster(3);
  client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
  for (let i = 0; i < N; i++) await client.set(`item:${i}`, `v${i}`, ...(i % 2 ? (['EX', 3600] as const) : ([] as [])));
  await client.hset('{tenant}:profile', 'a', '1');
  await client.set(Buffer.from([0x6b, 0xff, 0x01]), 'binary');
});

afterAll(async () => {
  client.disconnect();
  await cluster.stop();
});

async function perNodeCounts(): Promise<number[]> {
  return Promise.all(cluster.nodes.map(async (n) => {
    const r = new Redis(n.port, '127.0.0.1');
    const size = await r.dbsize();
    r.disconnect();
    return size;
  }));
}

describe('cluster', () => {
  it('is detected automatically and every master is walked', async () => {
    const r = await runCli(['keys', 'scan', '--url', cluster.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const recs = ndjson(r.stdout);
    expect(recs).toHaveLength(N + 2);
    const keys = new Set(recs.map((x) => x.key ?? x.key64));
    expect(keys.size).toBe(N + 2);
    const nodes = new Set(recs.map((x) => x.node));
    expect(nodes).toEqual(new Set(cluster.nodes.map((n) => `127.0.0.1:${n.port}`)));
    const counts = await perNodeCounts();
    for (const n of cluster.nodes) {
      expect(recs.filter((x) => x.node === `127.0.0.1:${n.port}`)).toHaveLength(counts[cluster.nodes.indexOf(n)]);
    }
  });

  it('keys stats reports per-node and total figures', async () => {
    const r = await runCli(['keys', 'stats', '--url', cluster.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    const counts = await perNodeCounts();
    expect(s.scanned).toBe(N + 2);
    expect(s.dbsize).toBe(N + 2);
    expect(s.nodes.map((n: { scanned: number }) => n.scanned).sort()).toEqual([...counts].sort());
    const items = s.groups.find((g: { pattern: string }) => g.pattern === 'item:*');
    expect(items).toMatchObject({ count: N, noTtlShare: 0.5 });
  });

  it('keys inspect follows the key to its node', async () => {
    const r = await runCli(['keys', 'inspect', 'item:7', '--url', cluster.url, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ key: 'item:7', type: 'string', preview: { items: [{ value: 'v7' }] } });
  });

  it('keys delete unlinks across slots and nodes', async () => {
    const r = await runCli(['keys', 'delete', 'item:*', '--url', cluster.url, '--yes', '--json', '--limit', '400']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ deleted: 400, stoppedBy: 'limit' });
    const rest = await runCli(['keys', 'delete', 'item:*', '--url', cluster.url, '--yes', '--json']);
    expect(rest.code).toBe(0);
    expect(JSON.parse(rest.stdout)).toMatchObject({ deleted: N - 400 });
    expect((await perNodeCounts()).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('--db other than 0 is a clear usage error on a cluster', async () => {
    const r = await runCli(['keys', 'scan', '--url', cluster.url, '--db', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a cluster, which has only database 0');
  });
});
