import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openTarget, type Target } from '../../src/lib/connect/target.js';
import { drain, retryDrainPlan } from '../../src/lib/queues/drain.js';
import { DEFAULT_FIELDS, type QueueRef } from '../../src/lib/queues/model.js';
import { Rails } from '../../src/lib/rails.js';
import { railsFrom } from '../../src/commands/railsFlags.js';
import { collectWorkers, reapWorkers } from '../../src/lib/workers/workers.js';
import { DEFAULT_HEARTBEATS } from '../../src/lib/queues/config.js';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';

// Another client acts between our read and our write: the atomic checks
// must leave every job exactly once.
let server: LocalServer;
let redis: Redis;
let target: Target;
const ref: QueueRef = {
  name: 'tts_queue', system: 'homegrown', db: 0, fields: DEFAULT_FIELDS, declared: true,
  keys: { main: 'tts_queue', retry: 'tts_retry_queue', dead: 'tts_dead_letter_queue', processing: 'tts_queue:processing:*' },
};
const yes = () => new Rails(railsFrom('test', { yes: true }));

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  target = await openTarget({ host: '127.0.0.1', port: server.port, db: 0, tls: null, mode: 'auto', sentinels: [], timeoutMs: 5000 });
});
afterAll(async () => {
  await target.close();
  redis.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

it('two retry-drains over the same jobs move each job once', async () => {
  const jobs = Array.from({ length: 250 }, (_, i) => JSON.stringify({ request_id: `r${i}`, retry_count: 1, next_retry_at: 1 }));
  await redis.lpush('tts_retry_queue', ...jobs);
  const plan = retryDrainPlan(ref, { all: false });
  let nested: Promise<unknown> | null = null;
  // The first decision starts a second drain of the same jobs, which runs
  // interleaved with this one on the same connection.
  const first = await drain(target, plan.source, (stored) => {
    if (!nested) nested = drain(target, plan.source, plan.decide, yes());
    return plan.decide(stored);
  }, yes());
  const second = (await nested) as Awaited<ReturnType<typeof drain>>;
  const moved = await redis.lrange('tts_queue', 0, -1);
  expect(moved).toHaveLength(250);
  expect(new Set(moved).size).toBe(250);
  expect(await redis.llen('tts_retry_queue')).toBe(0);
  expect((first.moved.retried ?? 0) + (second.moved.retried ?? 0)).toBe(250);
  expect(first.gone + second.gone).toBeGreaterThan(0);
});

it('an orphan is not requeued when its worker beats again between the look and the reap', async () => {
  const old = new Date(Date.now() - 600_000).toISOString().replace('Z', '');
  await redis.hset('worker_status:w1', { last_seen: old, current_job: 'j1' });
  await redis.rpush('tts_queue:processing:w1', '{"request_id":"j1"}');
  await redis.hset('worker_status:w2', { last_seen: old, current_job: 'j2' });
  await redis.rpush('tts_queue:processing:w2', '{"request_id":"j2"}');
  const refs = [{ ...ref, workerLists: ['tts_queue:processing:w1', 'tts_queue:processing:w2'] }];
  const report = await collectWorkers(target, 0, refs, { staleAfterMs: 60_000, heartbeats: DEFAULT_HEARTBEATS });
  expect(report.orphans.map((o) => o.job)).toEqual(['j1', 'j2']);
  // w1 comes back to life after the look.
  await redis.hset('worker_status:w1', 'last_seen', new Date().toISOString().replace('Z', ''));
  const res = await reapWorkers(target, report, yes(), { requeueOrphans: true, includeUnclaimed: false });
  expect(res).toMatchObject({ requeued: 1, forgotten: 1, skipped: { 'worker came back': 2 } });
  expect(await redis.lrange('tts_queue:processing:w1', 0, -1)).toEqual(['{"request_id":"j1"}']);
  expect(await redis.lrange('tts_queue', 0, -1)).toEqual(['{"request_id":"j2"}']);
  expect(await redis.exists('worker_status:w1')).toBe(1);
  expect(await redis.exists('worker_status:w2')).toBe(0);
});
