import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Cluster } from 'ioredis';
import { startCluster, type LocalCluster } from '../helpers/redis.js';
import { runCli, until } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';
import { series, startExporter, type RunningExporter } from '../helpers/exporter.js';

// A 3-master cluster: BullMQ's own client (hash-tagged prefix) and the seed's
// home-grown queue, whose keys land on different masters.
let cluster: LocalCluster;
let client: Cluster;
let exporter: RunningExporter;
let bull: any;
const nodes = () => cluster.nodes.map((n) => `127.0.0.1:${n.port}`);

beforeAll(async () => {
  cluster = await startCluster(3, ['--cluster-require-full-coverage', 'no']);
  client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }]);
  bull = await runPeer('node', 'bullmq_fill.mjs', [cluster.url, '{bull}', '--cluster']);
  await client.lpush('tts_queue', '{"request_id":"q1"}', '{"request_id":"q2"}', '{"request_id":"q3"}');
  await client.lpush('tts_retry_queue', '{"request_id":"r1","retry_count":1}');
  await client.lpush('tts_dead_letter_queue', '{"request_id":"d1"}');
  for (let i = 0; i < 300; i++) await client.set(`session:${i}`, 'x', 'EX', 3600);
  await client.set('lock:billing', 'holder');
  exporter = await startExporter(['--url', cluster.url, '--keys-rate', '100000', '--scrape-timeout', '3s']);
}, 120_000);
afterAll(async () => {
  await exporter?.stop();
  client.disconnect();
  await cluster.stop();
});

it('queue gauges equal `queue stats --json` on the cluster, BullMQ\'s own counts among them', async () => {
  const r = await runCli(['queue', 'stats', '--url', cluster.url, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const queues = JSON.parse(r.stdout).queues as any[];
  expect(queues.map((q) => `${q.system}:${q.name}`).sort()).toEqual(['bullmq:emails', 'bullmq:reports', 'homegrown:tts_queue']);
  const m = await exporter.metrics();
  for (const q of queues) {
    const labels = { queue: q.name, system: q.system, db: 0 };
    for (const field of ['waiting', 'active', 'delayed', 'retry', 'dead', 'completed']) {
      expect(m.get(series(`redis_ops_queue_${field}`, labels)), `${field} ${q.name}`).toBe(q[field] === null ? undefined : q[field]);
    }
  }
  const own = bull.queues.emails;
  expect(m.get(series('redis_ops_queue_waiting', { queue: 'emails', system: 'bullmq', db: 0 }))).toBe(own.wait + own.paused + own.prioritized);
  expect(m.get(series('redis_ops_queue_dead', { queue: 'emails', system: 'bullmq', db: 0 }))).toBe(own.failed);
});

it('every node up with its own INFO and health checks; locks and key patterns over all masters; promtool passes', async () => {
  const m = await exporter.metrics();
  for (const node of nodes()) {
    expect(m.get(series('redis_ops_up', { node }))).toBe(1);
    expect(m.get(series('redis_ops_memory_used_bytes', { node }))).toBeGreaterThan(0);
    expect(m.get(series('redis_ops_health_check_status', { check: 'cluster', node }))).toBe(0);
  }
  expect(m.get(series('redis_ops_locks', { pattern: 'lock:*', db: 0 }))).toBe(1);
  await until(async () => (await exporter.metrics()).has(series('redis_ops_keys_pattern_keys', { db: 0, pattern: 'session:*' })), 'the key walk');
  expect((await exporter.metrics()).get(series('redis_ops_keys_pattern_keys', { db: 0, pattern: 'session:*' }))).toBe(300);
  const check = spawnSync('promtool', ['check', 'metrics'], { input: (await exporter.scrape()).text, encoding: 'utf8' });
  expect(check.stdout + check.stderr).toBe('');
  expect(check.status).toBe(0);
});

it('a master killed mid-run: the scrape still answers, that node is up 0, the others stay up', async () => {
  const dead = cluster.nodes[2]!;
  const deadNode = `127.0.0.1:${dead.port}`;
  dead.process.kill('SIGKILL');
  await until(async () => (await exporter.metrics()).get(series('redis_ops_up', { node: deadNode })) === 0, 'the killed node up 0');
  const m = await exporter.metrics();
  for (const node of nodes().filter((n) => n !== deadNode)) expect(m.get(series('redis_ops_up', { node }))).toBe(1);
  expect(m.get(series('redis_ops_health_check_status', { check: 'ping', node: deadNode }))).toBe(2);
});
