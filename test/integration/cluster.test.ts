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

  it('memory, slowlog and latency report every node', async () => {
    const addresses = cluster.nodes.map((n) => `127.0.0.1:${n.port}`).sort();
    const mem = JSON.parse((await runCli(['memory', '--url', cluster.url, '--json', '--no-scan'])).stdout);
    expect(mem.nodes.map((n: { node: string }) => n.node).sort()).toEqual(addresses);
    expect(mem.nodes.every((n: { usedBytes: number }) => n.usedBytes > 0)).toBe(true);
    const lat = await runCli(['latency', '--url', cluster.url, '--json', '--samples', '5', '--interval', '0']);
    expect(lat.code).toBe(0);
    expect(JSON.parse(lat.stdout).nodes.map((n: { node: string; ping: { samples: number } }) => [n.node, n.ping.samples]).sort())
      .toEqual(addresses.map((a) => [a, 5]));
    for (const n of cluster.nodes) {
      const c = new Redis(n.port, '127.0.0.1');
      await c.config('SET', 'slowlog-log-slower-than', '0');
      await c.call('ECHO', `from-${n.port}`);
      await c.config('SET', 'slowlog-log-slower-than', '10000');
      c.disconnect();
    }
    const slow = JSON.parse((await runCli(['slowlog', '--url', cluster.url, '--json'])).stdout);
    const echoes = slow.entries.filter((e: { command: string }) => e.command === 'ECHO');
    expect(echoes.map((e: { node: string; args: string[] }) => `${e.node} ${e.args[1]}`).sort())
      .toEqual(cluster.nodes.map((n) => `127.0.0.1:${n.port} from-${n.port}`).sort());
  });

  it('--db other than 0 is a clear usage error on a cluster', async () => {
    const r = await runCli(['keys', 'scan', '--url', cluster.url, '--db', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a cluster, which has only database 0');
  });
});
