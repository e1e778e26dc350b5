import { randomBytes, randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * Queues of every kind for the sandbox, in each system's layout (the tests
 * check these layouts against the real clients; this only lets people try
 * the queue and workers commands): the seed's TTS queue with priority,
 * retry (due and not yet), dead letters, a processing set and per-worker
 * processing lists; Sidekiq, BullMQ, RQ and Celery queues; live and dead workers.
 */
export async function fillQueues(c: Redis | Cluster, now = Date.now()): Promise<number> {
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '');
  const sec = now / 1000;
  const writes: Promise<unknown>[] = [];
  const w = (p: Promise<unknown>) => writes.push(p);
  const tts = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({ request_id: `req-${i}`, user_id: `u${i % 7}`, text: 'xin chào', voice_settings: { voice_name: 'vi-VN-1', speed: 1.0, pitch: 0 }, priority: 0, timestamp: iso(now - i * 7000), ...extra });

  // The seed's TTS queue (seed 000), with every companion.
  w(c.lpush('tts_queue', ...Array.from({ length: 40 }, (_, i) => tts(100 + i))));
  w(c.zadd('tts_queue_priority', 5, tts(90, { priority: 5 }), 3, tts(91, { priority: 3 })));
  w(c.lpush('tts_retry_queue', ...[0, 1, 2, 3, 6].map((n, i) => tts(200 + i, { retry_count: n, next_retry_at: sec + (i < 2 ? -30.5 : 30 * 2 ** n) }))));
  w(c.lpush('tts_retry_queue', '{"request_id": "req-bad", truncated'));
  w(c.lpush('tts_dead_letter_queue', ...[0, 1, 2].map((i) => tts(300 + i, { retry_count: 6, error: 'synthesis timed out' }))));
  w(c.sadd('processing_requests', 'req-400', 'req-401'));
  w(c.hset('worker_status:tts-worker-1', { last_seen: iso(now - 2000), current_job: 'req-400', queue_length: '40' }));
  w(c.hset('worker_status:tts-worker-2', { last_seen: iso(now - 900_000), current_job: 'req-401', queue_length: '38' }));
  // A reliable queue: jobs taken with LMOVE into a per-worker list; its worker died.
  w(c.lpush('queue:reports', ...Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `rep-${i}`, created_at: sec - i * 60 }))));
  w(c.rpush('queue:reports:processing:report-worker-9', JSON.stringify({ id: 'rep-crashed', created_at: sec - 3600 })));
  w(c.hset('worker_status:report-worker-9', { last_seen: String(sec - 3600), current_job: 'rep-crashed' }));

  // Sidekiq.
  const sk = (queue: string, extra: Record<string, unknown> = {}) => JSON.stringify({ retry: true, queue, class: 'HardJob', args: [randomUUID()], jid: randomBytes(12).toString('hex'), created_at: sec - 600, enqueued_at: sec - 120, ...extra });
  w(c.sadd('queues', 'default', 'mailers'));
  w(c.lpush('queue:default', ...Array.from({ length: 8 }, () => sk('default'))));
  w(c.lpush('queue:mailers', sk('mailers')));
  w(c.zadd('schedule', String(sec + 3600), sk('default')));
  w(c.zadd('retry', String(sec - 5), sk('default', { retry_count: 1, error_message: 'boom' }), String(sec + 600), sk('mailers', { retry_count: 3, error_message: 'smtp' })));
  w(c.zadd('dead', String(sec - 86400), sk('default', { retry_count: 25, error_message: 'gave up' })));
  const live = `web-1:${process.pid}:${randomBytes(6).toString('hex')}`;
  const gone = `web-2:4242:${randomBytes(6).toString('hex')}`;
  w(c.sadd('processes', live, gone));
  w(c.hset(live, { info: JSON.stringify({ hostname: 'web-1', queues: ['default', 'mailers'], concurrency: 5, identity: live }), busy: '1', beat: String(sec), quiet: 'false' }));
  w(c.expire(live, 3600));
  w(c.hset(`${live}:workers`, 'tid-1', JSON.stringify({ queue: 'default', payload: sk('default'), run_at: Math.floor(sec) })));

  // BullMQ (prefix bull).
  const b = 'bull:emails';
  w(c.hset(`${b}:meta`, { 'opts.maxLenEvents': '10000', version: 'bullmq:5.0.0' }));
  w(c.set(`${b}:id`, '6'));
  for (let i = 1; i <= 6; i++) w(c.hset(`${b}:${i}`, { name: 'send', data: JSON.stringify({ to: `user${i}@example.com` }), opts: '{}', timestamp: String(now - i * 30_000), ...(i === 6 ? { failedReason: 'smtp down', attemptsMade: '3' } : {}) }));
  w(c.lpush(`${b}:wait`, '3', '2', '1'));
  w(c.lpush(`${b}:active`, '4'));
  w(c.set(`${b}:4:lock`, randomUUID(), 'PX', 3_600_000));
  w(c.zadd(`${b}:delayed`, String((now + 3_600_000) * 4096), '5'));
  w(c.zadd(`${b}:failed`, String(now), '6'));

  // RQ.
  w(c.sadd('rq:queues', 'rq:queue:default'));
  const rqIds = [randomUUID(), randomUUID(), randomUUID()];
  w(c.rpush('rq:queue:default', ...rqIds));
  rqIds.forEach((id, i) => w(c.hset(`rq:job:${id}`, { status: 'queued', origin: 'default', description: `app.tasks.resize(${i})`, enqueued_at: new Date(now - (3 - i) * 45_000).toISOString().replace(/\.\d+Z$/, '.000000Z') })));
  w(c.zadd('rq:failed:default', String(sec + 86400), randomUUID()));
  w(c.sadd('rq:workers', 'rq:worker:resizer-1', 'rq:worker:resizer-crashed'));
  w(c.hset('rq:worker:resizer-1', { last_heartbeat: new Date(now).toISOString().replace('Z', '000Z').replace(/(\.\d{3})000Z/, '$1000Z'), queues: 'default', state: 'idle' }));
  w(c.expire('rq:worker:resizer-1', 3600));

  // Celery (kombu): a queue list, a priority sub-list and a binding.
  w(c.sadd('_kombu.binding.celery', 'celery\x06\x16\x06\x16celery'));
  w(c.lpush('celery', ...Array.from({ length: 4 }, () => JSON.stringify({ body: '', headers: { task: 'tasks.add', id: randomUUID() }, properties: { delivery_tag: randomUUID() } }))));
  w(c.lpush('celery\x06\x169', JSON.stringify({ body: '', headers: { task: 'tasks.urgent', id: randomUUID() }, properties: {} })));
  await Promise.all(writes);
  return writes.length;
}
