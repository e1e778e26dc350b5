import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

// One server, one system per database, each written by the system's own client.
const DB = { seed: 0, sidekiq: 1, rq: 2, celery: 3, bullmq: 4 };
let server: LocalServer;
let redis: Redis;
let peer: Record<string, any>;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  const url = (db: number) => `${server.url}/${db}`;
  const [seed, sidekiq, rq, celery, bullmq] = await Promise.all([
    runPeer('python', 'seed000.py', [url(DB.seed)]),
    runPeer('ruby', 'sidekiq_fill.rb', [], { REDIS_URL: url(DB.sidekiq) }),
    runPeer('python', 'rq_fill.py', [url(DB.rq)]),
    runPeer('python', 'celery_fill.py', [url(DB.celery)]),
    runPeer('node', 'bullmq_fill.mjs', [url(DB.bullmq)]),
  ]);
  peer = { seed, sidekiq, rq, celery, bullmq };
}, 120_000);
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

async function stats(db: number, extra: string[] = []) {
  const r = await runCli(['queue', 'stats', '--url', `${server.url}/${db}`, '--json', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).queues as any[];
}

describe('queue stats equals each system\'s own counts', () => {
  it('seed 000 home-grown queue, as the seed writes it', async () => {
    const [q] = await stats(DB.seed);
    const m = peer.seed.metrics;
    expect(q).toMatchObject({
      name: 'tts_queue', system: 'homegrown', db: 0,
      waiting: m.queue_length + m.priority_queue_length, active: m.processing_requests,
      retry: m.retry_queue_length, dead: m.failed_requests, delayed: null, completed: null,
      keys: { main: 'tts_queue', retry: 'tts_retry_queue', dead: 'tts_dead_letter_queue', processing: 'processing_requests' },
    });
    expect(q.waiting).toBe(5);
    // The oldest job was pushed moments ago (utcnow().isoformat(), no zone: UTC).
    expect(q.oldestWaitingAgeSec).toBeGreaterThanOrEqual(0);
    expect(q.oldestWaitingAgeSec).toBeLessThan(60);
  });

  it('Sidekiq: Queue#size, ScheduledSet, RetrySet, DeadSet and WorkSet per queue; latency', async () => {
    const queues = await stats(DB.sidekiq);
    expect(queues.map((q) => q.name)).toEqual(['default', 'mailers']);
    for (const q of queues) {
      const own = peer.sidekiq.queues[q.name];
      expect(q).toMatchObject({ system: 'sidekiq', waiting: own.waiting, delayed: own.delayed, retry: own.retry, dead: own.dead, active: own.active, completed: null });
      expect(Math.abs(q.oldestWaitingAgeSec - own.latency)).toBeLessThan(30);
    }
    expect(queues[0]).toMatchObject({ waiting: 3, delayed: 1, retry: 2, dead: 1, active: 1 });
    expect(queues[0].oldestWaitingAgeSec).toBeGreaterThanOrEqual(120);
  });

  it('RQ: Queue.count and the registries', async () => {
    const queues = await stats(DB.rq);
    expect(queues.map((q) => q.name).sort()).toEqual(['high', 'low']);
    for (const q of queues) {
      const own = peer.rq.queues[q.name];
      expect(q).toMatchObject({ system: 'rq', waiting: own.waiting, active: own.active, delayed: own.delayed, dead: own.dead, completed: own.completed, retry: null });
      const ownAge = Date.now() / 1000 - own.oldestEnqueuedAt;
      expect(Math.abs(q.oldestWaitingAgeSec - ownAge)).toBeLessThan(30);
    }
    expect(queues.find((q) => q.name === 'high').oldestWaitingAgeSec).toBeGreaterThanOrEqual(90);
  });

  it('Celery: message counts with priority sub-lists, unacked deliveries per queue, no invented age', async () => {
    const queues = await stats(DB.celery);
    expect(queues.map((q) => q.name)).toEqual(['celery', 'emails']);
    for (const q of queues) {
      const own = peer.celery.queues[q.name];
      expect(q).toMatchObject({ system: 'celery', waiting: own.waiting, active: own.active, oldestWaitingAgeSec: null });
    }
    expect(queues[0].waiting).toBe(4);
    expect(queues[1].active).toBe(1);
  });

  it('BullMQ: getJobCounts (waiting = wait + paused + prioritized; dead = failed)', async () => {
    const queues = await stats(DB.bullmq);
    expect(queues.map((q) => q.name)).toEqual(['emails', 'reports']);
    for (const q of queues) {
      const own = peer.bullmq.queues[q.name];
      expect(q).toMatchObject({
        system: 'bullmq', waiting: own.wait + own.paused + own.prioritized, active: own.active, delayed: own.delayed,
        dead: own.failed, completed: own.completed, retry: null,
      });
      const ownAge = (Date.now() - own.oldestTimestamp) / 1000;
      expect(Math.abs(q.oldestWaitingAgeSec - ownAge)).toBeLessThan(30);
    }
    expect(queues[0]).toMatchObject({ waiting: 4, active: 1, delayed: 1, dead: 1, completed: 1 });
  });

  it('--all-dbs: every database\'s queues, each with its db', async () => {
    const queues = await stats(0, ['--all-dbs']);
    const byDb = (db: number) => queues.filter((q) => q.db === db).map((q) => `${q.system}:${q.name}`);
    expect(byDb(0)).toEqual(['homegrown:tts_queue']);
    expect(byDb(1)).toEqual(['sidekiq:default', 'sidekiq:mailers']);
    expect(byDb(2).sort()).toEqual(['rq:high', 'rq:low']);
    expect(byDb(3)).toEqual(['celery:celery', 'celery:emails']);
    expect(byDb(4)).toEqual(['bullmq:emails', 'bullmq:reports']);
  });

  it('names pick queues; an unknown name is a usage error', async () => {
    const queues = await stats(DB.sidekiq, ['mailers']);
    expect(queues.map((q) => q.name)).toEqual(['mailers']);
    const r = await runCli(['queue', 'stats', 'nope', '--url', `${server.url}/${DB.sidekiq}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such queue: nope/);
  });

  it('declared queues need no walk, and --prom-file writes gauges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ro-q-'));
    const config = join(dir, 'c.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(config, JSON.stringify({ queues: [{ name: 'tts', system: 'homegrown', keys: { main: 'tts_queue', retry: 'tts_retry_queue', dead: 'tts_dead_letter_queue' } }] }));
    const prom = join(dir, 'q.prom');
    const r = await runCli(['queue', 'stats', '--url', server.url, '--config', config, '--json', '--prom-file', prom]);
    expect(r.code).toBe(0);
    const [q] = JSON.parse(r.stdout).queues;
    expect(q).toMatchObject({ name: 'tts', waiting: 5, retry: 5, dead: 1, active: null });
    const text = readFileSync(prom, 'utf8');
    expect(text).toContain('redis_ops_queue_waiting{queue="tts",system="homegrown",db="0"} 5\n');
    expect(text).toContain('redis_ops_queue_dead{queue="tts",system="homegrown",db="0"} 1\n');
    expect(text).not.toContain('redis_ops_queue_active{');
  });

  it('a bad queues section in the config is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ro-q-'));
    const config = join(dir, 'c.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(config, JSON.stringify({ queues: [{ name: 'x', system: 'kafka' }] }));
    const r = await runCli(['queue', 'stats', '--url', server.url, '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/queues\[0\]\.system must be one of homegrown, sidekiq, bullmq, rq, celery$/);
  });
});
