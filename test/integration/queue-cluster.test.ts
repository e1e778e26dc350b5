import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startCluster, type LocalCluster } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

// The seed's layout on a 3-master cluster: its keys hash to different slots,
// so moves take the cross-slot path (write to the target, then remove from the source).
let cluster: LocalCluster;
let client: Cluster;
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '');

beforeAll(async () => {
  cluster = await startCluster(3);
  client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
  const now = Date.now();
  await client.lpush('tts_queue', ...[1, 2, 3].map((i) => JSON.stringify({ request_id: `q${i}`, timestamp: iso(now - i * 60_000) })));
  await client.lpush('tts_retry_queue', ...[1, 2, 3, 4].map((i) => JSON.stringify({ request_id: `r${i}`, retry_count: [0, 2, 0, 1][i - 1], next_retry_at: i <= 2 ? now / 1000 - 1.5 : now / 1000 + 600 })));
  await client.lpush('tts_dead_letter_queue', JSON.stringify({ request_id: 'd1', retry_count: 9 }));
  await client.hset('worker_status:w-dead', { last_seen: iso(now - 300_000), current_job: 'p1' });
  await client.hset('worker_status:w-live', { last_seen: iso(now), current_job: 'p2' });
  await client.rpush('tts_queue:processing:w-dead', JSON.stringify({ request_id: 'p1' }));
  await client.rpush('tts_queue:processing:w-live', JSON.stringify({ request_id: 'p2' }));
}, 60_000);
afterAll(async () => {
  client.disconnect();
  await cluster.stop();
});

const cli = (...args: string[]) => runCli([...args, '--url', cluster.url, '--json']);
const ids = async (key: string) => (await client.lrange(key, 0, -1)).map((s) => JSON.parse(s).request_id);

it('queue stats finds the queue across masters, with every figure', async () => {
  const r = await cli('queue', 'stats');
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).queues).toEqual([expect.objectContaining({
    name: 'tts_queue', system: 'homegrown', waiting: 3, retry: 4, dead: 1, active: 2, oldestWaitingAgeSec: expect.any(Number),
  })]);
  expect(JSON.parse(r.stdout).queues[0].oldestWaitingAgeSec).toBeGreaterThanOrEqual(180);
});

it('retry-drain moves the due jobs across slots, each once', async () => {
  const r = await cli('queue', 'retry-drain', 'tts_queue', '--yes', '--max-retries', '2');
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ moved: { retried: 1, dead: 1 }, left: { 'not due': 2 }, gone: 0 });
  expect(await ids('tts_retry_queue')).toEqual(['r4', 'r3']);
  expect(await ids('tts_queue')).toEqual(['r1', 'q3', 'q2', 'q1']);
  expect(await ids('tts_dead_letter_queue')).toEqual(['r2', 'd1']);
});

it('workers and reap --requeue-orphans: the dead worker\'s job goes back to the front of the queue', async () => {
  let r = await cli('workers');
  const doc = JSON.parse(r.stdout);
  expect(doc.workers.map((w: any) => [w.id, w.alive])).toEqual([['w-dead', false], ['w-live', true]]);
  expect(doc.orphans).toMatchObject([{ job: 'p1', worker: 'w-dead', key: 'tts_queue:processing:w-dead', requeueable: true }]);
  r = await cli('workers', 'reap', '--requeue-orphans', '--yes');
  expect(JSON.parse(r.stdout)).toMatchObject({ requeued: 1, forgotten: 1 });
  expect(await ids('tts_queue')).toEqual(['r1', 'q3', 'q2', 'q1', 'p1']);
  expect(await client.exists('tts_queue:processing:w-dead')).toBe(0);
  expect(await ids('tts_queue:processing:w-live')).toEqual(['p2']);
  expect(await client.exists('worker_status:w-dead')).toBe(0);
});

it('BullMQ on a cluster (prefix {bull}): queue stats equals getJobCounts', async () => {
  const { runPeer } = await import('../helpers/peers.js');
  const own = await runPeer('node', 'bullmq_fill.mjs', [cluster.url, '{bull}', '--cluster']);
  const r = await cli('queue', 'stats', 'bullmq:emails', 'bullmq:reports');
  expect(r.code, r.stderr).toBe(0);
  const queues = JSON.parse(r.stdout).queues;
  expect(queues.map((q: any) => q.name)).toEqual(['emails', 'reports']);
  for (const q of queues) {
    const c = own.queues[q.name];
    expect(q).toMatchObject({ system: 'bullmq', waiting: c.wait + c.paused + c.prioritized, active: c.active, delayed: c.delayed, dead: c.failed, completed: c.completed });
    expect(q.keys.wait).toBe(`{bull}:${q.name}:wait`);
  }
}, 60_000);
