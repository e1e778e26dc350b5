import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A realistic sample keyspace, modelled on the layouts in the seed documents
 * (TTS queue and status, jobs and sessions, progress streams, rate limits,
 * locks, caches): keys with and without TTLs, every data type, a stream with
 * a consumer group, a few big keys and binary key names.
 */
export interface DatasetOptions {
  /** Roughly how many small keys to write (big keys come on top). */
  keys: number;
  /** Include the big keys (a 100k list, a 50k zset, a 30k set). */
  big?: boolean;
}

export interface DatasetSummary {
  keys: number;
  patterns: Record<string, number>;
}

export async function fillSandbox(client: Redis | Cluster, opts: DatasetOptions): Promise<DatasetSummary> {
  const patterns: Record<string, number> = {};
  const unit = Math.max(1, Math.floor(opts.keys / 20));
  // Each add() writes one key. A cluster pipeline must stay in one slot, so
  // there every key gets a pipeline of its own (ioredis sends them together);
  // a single server takes one pipeline for many keys.
  const clustered = 'nodes' in client;
  let p = client.pipeline();
  let queued = 0;
  let sent: Promise<unknown>[] = [];
  const run = (pipeline: ReturnType<typeof client.pipeline>) => pipeline.exec().then((replies) => {
    const failed = replies?.find(([e]) => e);
    if (failed) throw failed[0];
  });
  const flush = async (force = false) => {
    if (queued >= 2000 || (force && queued)) {
      if (!clustered) sent.push(run(p));
      await Promise.all(sent);
      sent = [];
      p = client.pipeline();
      queued = 0;
    }
  };
  const add = async (pattern: string, fn: () => void) => {
    if (clustered) p = client.pipeline();
    fn();
    if (clustered) sent.push(run(p));
    patterns[pattern] = (patterns[pattern] ?? 0) + 1;
    queued++;
    await flush();
  };
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '');

  for (let i = 0; i < unit * 4; i++) {
    const id = randomUUID();
    await add('tts_status:*', () => p.hset(`tts_status:${id}`, { status: 'processing', progress: String(i % 100), updated_at: iso(now) }).expire(`tts_status:${id}`, 3600));
    await add('tts_status_cache:*', () => p.set(`tts_status_cache:${id}`, JSON.stringify({ status: 'done', id }), 'EX', 300));
  }
  for (let i = 0; i < unit * 3; i++) {
    const job = randomUUID();
    await add('job:*', () => p.hset(`job:${job}`, { job_id: job, status: 'pending', total_files: '3', created_at: iso(now - i * 1000) }).expire(`job:${job}`, 86400));
    await add('job:*:files', () => p.rpush(`job:${job}:files`, JSON.stringify({ name: 'a.png' }), JSON.stringify({ name: 'b.png' })).expire(`job:${job}:files`, 86400));
    await add('session:*', () => p.set(`session:${job}`, 'f'.repeat(64), 'EX', 86400));
    await add('progress:*:*', () => p.set(`progress:${job}:file_${String(i % 3).padStart(3, '0')}`, String(i % 100), 'EX', 86400));
  }
  // Immortal keys: the cleanup jobs of the seeds exist because of these.
  for (let i = 0; i < unit * 3; i++) {
    const created = iso(now - (i % 5) * 24 * 3600 * 1000);
    await add('user:*', () => p.set(`user:${1000 + i}`, JSON.stringify({ id: 1000 + i, username: `user${i}`, created_at: created })));
    await add('cache:model:*', () => p.set(`cache:model:${i}`, JSON.stringify({ model: i, created_at: created, blob: 'x'.repeat(200) })));
  }
  for (let i = 0; i < unit; i++) {
    await add('rate_limit:*:*', () => {
      const k = `rate_limit:user${i}:tts`;
      p.zadd(k, now / 1000, String(now), now / 1000 - 1, String(now - 1000)).expire(k, 60);
    });
    await add('user_jobs:*', () => p.sadd(`user_jobs:${randomUUID().replace(/-/g, '')}`, randomUUID(), randomUUID()));
    await add('audio_cache:*', () => p.set(`audio_cache:${randomUUID().replace(/-/g, '')}`, Buffer.alloc(512, i % 256), 'EX', 7 * 86400 + 3600));
    await add('user_session:*', () => p.hset(`user_session:${i}`, { user_id: String(i), role: 'user' }));
  }
  for (let i = 0; i < Math.max(3, Math.floor(unit / 10)); i++) {
    const job = randomUUID();
    await add('stream:progress:*', () => {
      for (let e = 0; e < 20; e++) p.xadd(`stream:progress:${job}`, 'MAXLEN', '~', '1000', '*', 'file_id', `file_${e}`, 'progress', String(e * 5));
      // A consumer group with pending entries, as a progress reader leaves them.
      if (i === 0) p.xgroup('CREATE', `stream:progress:${job}`, 'ui', '0').xreadgroup('GROUP', 'ui', 'web-1', 'COUNT', '5', 'STREAMS', `stream:progress:${job}`, '>');
    });
  }
  // Locks: fresh ones with a TTL, and leftovers without one (a crashed holder).
  for (let i = 0; i < 10; i++) {
    await add('lock:job:*', () => p.set(`lock:job:${randomUUID()}`, randomUUID(), 'EX', 30));
    await add('lock:file:*', () => p.set(`lock:file:${randomUUID()}`, randomUUID()));
  }
  for (let i = 0; i < 5; i++) {
    const w = `worker-${i}`;
    await add('worker_status:*', () => p.hset(`worker_status:${w}`, { last_seen: iso(now - i * 45_000), current_job: randomUUID(), queue_length: '0' }));
  }
  await add('metric:*:count', () => p.set('metric:requests:count', '12345'));
  await add('tts_queue', () => p.lpush('tts_queue', ...Array.from({ length: 25 }, (_, i) => JSON.stringify({ request_id: randomUUID(), user_id: `u${i}`, text: 'hello', priority: 0, timestamp: iso(now - i * 1000) }))));
  await add('completed_requests_today', () => p.set('completed_requests_today', '42'));
  // Binary and awkward key names: tools that assume UTF-8 mangle these.
  await add('bin:*', () => p.set(Buffer.from([0x62, 0x69, 0x6e, 0x3a, 0xff, 0x00, 0xfe]), Buffer.from([0, 1, 2, 255])));
  await add('bin:*', () => p.set('bin:line\nbreak', 'newline in the name'));
  await add('bin:*', () => p.hset(Buffer.from('bin:hash'), Buffer.from([0xc3, 0x28]), Buffer.from([0xff])));
  await flush(true);

  if (opts.big) {
    const chunk = 1000;
    await add('events:log', () => { for (let i = 0; i < 100_000; i += chunk) p.rpush('events:log', ...Array.from({ length: chunk }, (_, j) => `event-${i + j}`)); });
    await add('leaderboard:*', () => { for (let i = 0; i < 50_000; i += chunk) p.zadd('leaderboard:global', ...Array.from({ length: chunk }, (_, j) => [String((i + j) * 1.5), `player:${i + j}`]).flat()); });
    await add('tags:all', () => { for (let i = 0; i < 30_000; i += chunk) p.sadd('tags:all', ...Array.from({ length: chunk }, (_, j) => `tag-${i + j}`)); });
    await add('blob:report', () => p.set('blob:report', 'r'.repeat(2 * 1024 * 1024)));
    await flush(true);
  }
  const keys = Object.values(patterns).reduce((a, b) => a + b, 0);
  return { keys, patterns };
}

export interface Sandbox {
  url: string;
  cluster: boolean;
  keys: number;
  patterns: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * A throwaway server (or 3-master cluster) filled with the sample keyspace
 * and the queue layouts of every system: what `redis-ops sandbox` serves.
 */
export async function startSandbox(opts: DatasetOptions & { cluster: boolean; port?: number; onStep?: (what: string) => void }): Promise<Sandbox> {
  const { startServer, startCluster } = await import('./server.js');
  const { fillQueues } = await import('./queues.js');
  const { Redis, Cluster } = await (await import('../connect/driver.js')).loadDriver();
  const cluster = opts.cluster ? await startCluster(3) : null;
  const server = cluster ? null : await startServer({ port: opts.port });
  const stop = async () => { await (cluster ?? server)!.stop(); };
  try {
    opts.onStep?.('filling sample data…');
    const client = cluster ? new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }]) : new Redis(server!.port, '127.0.0.1');
    try {
      const summary = await fillSandbox(client, opts);
      await fillQueues(client);
      // The queue layouts come on top of the sample data: count what is there.
      const masters = cluster ? (client as Cluster).nodes('master') : [client as Redis];
      const sizes = await Promise.all(masters.map((n) => n.dbsize()));
      return { url: cluster ? cluster.url : server!.url, cluster: Boolean(cluster), keys: sizes.reduce((a, b) => a + b, 0), patterns: summary.patterns, stop };
    } finally {
      client.disconnect();
    }
  } catch (e) {
    await stop();
    throw e;
  }
}
