import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

let server: LocalServer;
let redis: Redis;
const DB = { seed: 0, sidekiq: 1, rq: 2, bullmq: 4 };
const url = (db: number) => `${server.url}/${db}`;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
}, 60_000);
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

async function workers(db: number, extra: string[] = []) {
  const r = await runCli(['workers', '--url', url(db), '--json', ...extra]);
  expect(r.stderr).toBe('');
  return { code: r.code, ...JSON.parse(r.stdout) };
}

describe('workers', () => {
  it('seed 000 heartbeats (ISO last_seen without a zone), and the dead worker\'s job as an orphan', async () => {
    await runPeer('python', 'seed000.py', [url(DB.seed)]);
    const doc = await workers(DB.seed);
    expect(doc.workers.map((w: any) => [w.id, w.system, w.alive])).toEqual([['worker-1', 'homegrown', true], ['worker-2', 'homegrown', false]]);
    const dead = doc.workers[1];
    expect(dead.ageSec).toBeGreaterThanOrEqual(600);
    expect(dead.ageSec).toBeLessThan(660);
    expect(dead.lastSeen).toMatch(/Z$/);
    expect(doc.orphans).toEqual([{
      system: 'homegrown', db: 0, queue: 'tts_queue', key: 'processing_requests', job: dead.currentJob, worker: 'worker-2',
      reason: expect.stringMatching(/worker worker-2 is dead; the set holds only the id/), requeueable: false,
    }]);
    expect((await workers(DB.seed, ['--fail-on-dead'])).code).toBe(1);
    // With a long enough --stale-after, worker-2 is alive and nothing is orphaned.
    const lenient = await workers(DB.seed, ['--stale-after', '1h']);
    expect(lenient.workers.every((w: any) => w.alive)).toBe(true);
    expect(lenient.orphans).toEqual([]);
  });

  it('workers reap forgets the dead worker\'s record only (dry run first)', async () => {
    let r = await runCli(['workers', 'reap', '--url', url(DB.seed), '--dry-run', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, deadWorkers: 1, forgotten: 1 });
    expect(await redis.exists('worker_status:worker-2')).toBe(1);
    r = await runCli(['workers', 'reap', '--url', url(DB.seed), '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, forgotten: 1, requeued: 0 });
    expect(await redis.exists('worker_status:worker-2')).toBe(0);
    expect(await redis.exists('worker_status:worker-1')).toBe(1);
  });

  it('Sidekiq processes: alive while the identity hash exists (Sidekiq\'s rule); the live one\'s job; reap drops the dead identity as Sidekiq\'s cleanup does', async () => {
    const own = await runPeer('ruby', 'sidekiq_fill.rb', [], { REDIS_URL: url(DB.sidekiq) });
    const doc = await workers(DB.sidekiq);
    const sk = doc.workers.filter((w: any) => w.system === 'sidekiq');
    expect(sk.map((w: any) => w.id).sort()).toEqual(own.processes);
    expect(sk.filter((w: any) => w.alive).map((w: any) => w.id)).toEqual(own.alive);
    expect(sk.find((w: any) => w.alive).currentJob).toBe('inflight0000000000000000');
    const r = await runCli(['workers', 'reap', '--url', url(DB.sidekiq), '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ forgotten: 1 });
    const c = clientFor(server, DB.sidekiq);
    expect(await c.smembers('processes')).toEqual(own.alive);
    c.disconnect();
  });

  it('RQ workers: live and crashed (hash expired, still registered)', async () => {
    const own = await runPeer('python', 'rq_fill.py', [url(DB.rq)]);
    const doc = await workers(DB.rq);
    expect(doc.workers.map((w: any) => [w.id, w.alive])).toEqual([['dead-worker', false], ['live-worker', true]]);
    expect(own.workers).toEqual(['live-worker']);
    const r = await runCli(['workers', 'reap', '--url', url(DB.rq), '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ forgotten: 1 });
    const c = clientFor(server, DB.rq);
    expect(await c.smembers('rq:workers')).toEqual(['rq:worker:live-worker']);
    c.disconnect();
  });

  it('BullMQ workers are the connections BullMQ names (CLIENT LIST)', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../peers/bullmq_fill.mjs', import.meta.url)), url(DB.bullmq), 'bull', '--stay'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout!.on('data', (d) => { if (String(d).includes('ready')) resolve(); }));
      const doc = await workers(DB.bullmq);
      const bull = doc.workers.filter((w: any) => w.system === 'bullmq');
      expect(bull.map((w: any) => [w.id, w.queues, w.alive])).toEqual([['mailer-1', ['emails'], true]]);
      // The active job holds its lock: not an orphan.
      expect(doc.orphans).toEqual([]);
      const c = clientFor(server, DB.bullmq);
      const [id] = await c.lrange('bull:emails:active', 0, -1);
      await c.del(`bull:emails:${id}:lock`);
      c.disconnect();
      const after = await workers(DB.bullmq);
      expect(after.orphans).toMatchObject([{ system: 'bullmq', queue: 'emails', job: id, requeueable: false }]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
