import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'ro-qops-'));

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const cli = (args: string[], input?: string) => runCli([...args, '--url', server.url], { input });
const items = async (key: string) => (await redis.lrange(key, 0, -1)).map((s) => { try { return JSON.parse(s).request_id ?? s; } catch { return s; } });

describe('home-grown queue (seed 000, written by the seed\'s code)', () => {
  beforeEach(async () => {
    await redis.flushall();
    await runPeer('python', 'seed000.py', [server.url]);
  });

  it('peek shows the next jobs in the order a worker takes them, and removes nothing', async () => {
    const before = await redis.lrange('tts_queue', 0, -1);
    const r = await cli(['queue', 'peek', 'tts_queue', '--show', '2', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.jobs.map((j: any) => j.id)).toEqual(['req-1', 'req-2']);
    expect(doc.jobs[0].job.voice_settings).toEqual({ voice_name: 'vi-VN-1', speed: 1, pitch: 0 });
    expect(await redis.lrange('tts_queue', 0, -1)).toEqual(before);
  });

  it('retry-drain moves only due jobs (fractional next_retry_at), sends jobs past --max-retries to the dead letters, leaves malformed ones', async () => {
    const before = await redis.lrange('tts_retry_queue', 0, -1);
    const original = before.find((s) => s.includes('req-13'))!;
    const r = await cli(['queue', 'retry-drain', 'tts_queue', '--max-retries', '5', '--yes', '--json']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ considered: 5, moved: { retried: 1, dead: 1 }, left: { 'not due': 2, malformed: 1 }, gone: 0 });
    expect(res.malformed).toEqual([{ sample: 'not json {' }]);
    expect(await items('tts_retry_queue')).toEqual(['not json {', 'req-11', 'req-10']);
    // The moved job is byte for byte what the seed wrote, now at the back of the line.
    expect(await redis.lindex('tts_queue', 0)).toBe(original);
    expect(await items('tts_dead_letter_queue')).toEqual(['req-12', 'req-20']);
    expect(await redis.llen('tts_queue')).toBe(6);
  });

  it('--all moves jobs that are not due yet; --dry-run and --limit', async () => {
    let r = await cli(['queue', 'retry-drain', 'tts_queue', '--all', '--dry-run', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, moved: { retried: 4 }, left: { malformed: 1 } });
    expect(await redis.llen('tts_retry_queue')).toBe(5);
    r = await cli(['queue', 'retry-drain', 'tts_queue', '--all', '--yes', '--limit', '3', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ moved: { retried: 3 }, stopped: 'limit' });
    expect(await redis.llen('tts_retry_queue')).toBe(2);
    expect(await redis.llen('tts_queue')).toBe(8);
  });

  it('refuses to write off a terminal without --yes, and changes nothing', async () => {
    const r = await cli(['queue', 'retry-drain', 'tts_queue']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to change data without confirmation/);
    expect(await redis.llen('tts_retry_queue')).toBe(5);
  });

  it('--log records every move', async () => {
    const log = join(dir, 'drain.log');
    await cli(['queue', 'retry-drain', 'tts_queue', '--yes', '--log', log]);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ command: 'queue retry-drain', key: 'tts_retry_queue', action: 'retried', to: 'tts_queue', job: 'req-13' });
  });

  it('dead requeue resets the retry counter and keeps every other byte; purge removes', async () => {
    let r = await cli(['queue', 'dead', 'tts_queue', 'list', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 1, jobs: [{ id: 'req-20', job: { retry_count: 6 } }] });
    const stored = await redis.lindex('tts_dead_letter_queue', 0);
    r = await cli(['queue', 'dead', 'tts_queue', 'requeue', '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ moved: { requeued: 1 } });
    expect(await redis.llen('tts_dead_letter_queue')).toBe(0);
    expect(await redis.lindex('tts_queue', 0)).toBe(stored!.replace('"retry_count": 6', '"retry_count": 0'));
    await redis.lpush('tts_dead_letter_queue', '{"request_id": "x1"}', '{"request_id": "x2"}');
    r = await cli(['queue', 'dead', 'tts_queue', 'purge', '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ moved: { purged: 2 } });
    expect(await redis.exists('tts_dead_letter_queue')).toBe(0);
  });

  it('enqueue: argument, priority, NDJSON on stdin; a bad line enqueues nothing', async () => {
    let r = await cli(['queue', 'enqueue', 'tts_queue', '{"request_id":"new-1","n":12345678901234567890}', '--yes']);
    expect(r.code).toBe(0);
    expect(await redis.lindex('tts_queue', 0)).toBe('{"request_id":"new-1","n":12345678901234567890}');
    r = await cli(['queue', 'enqueue', 'tts_queue', '{"request_id":"vip"}', '--priority', '5', '--yes']);
    expect(await redis.zrange('tts_queue_priority', 0, -1, 'WITHSCORES')).toEqual(['{"request_id":"vip"}', '5']);
    const file = join(dir, 'jobs.ndjson');
    writeFileSync(file, '{"request_id":"b1"}\n\n{"request_id":"b2"}\n');
    r = await cli(['queue', 'enqueue', 'tts_queue', '--file', file, '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ enqueued: 2, key: 'tts_queue' });
    const len = await redis.llen('tts_queue');
    r = await cli(['queue', 'enqueue', 'tts_queue', '--yes'], '{"request_id":"c1"}\n{"request_id": oops}\n{"request_id":"c3"}\n');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: stdin line 2: not valid JSON .*nothing was enqueued$/);
    expect(await redis.llen('tts_queue')).toBe(len);
  });

  it('enqueue to an unknown queue needs --new', async () => {
    let r = await cli(['queue', 'enqueue', 'emails_queue', '{"a":1}', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such queue: emails_queue/);
    r = await cli(['queue', 'enqueue', 'emails_queue', '{"a":1}', '--yes', '--new']);
    expect(r.code).toBe(0);
    expect(await redis.lrange('emails_queue', 0, -1)).toEqual(['{"a":1}']);
  });
});

describe('Sidekiq (data and checks by Sidekiq itself)', () => {
  const sidekiqView = () => runPeer('ruby', 'sidekiq_check.rb', [], { REDIS_URL: server.url });
  beforeEach(async () => {
    await redis.flushall();
    await runPeer('ruby', 'sidekiq_fill.rb', [], { REDIS_URL: server.url });
  });

  it('retry-drain --all puts the queue\'s retries back as Sidekiq\'s poller would; other queues\' retries stay', async () => {
    const before = await sidekiqView();
    const retryJids = before.retry.filter((j: any) => j.queue === 'default').map((j: any) => j.jid).sort();
    const r = await cli(['queue', 'retry-drain', 'default', '--all', '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ moved: { retried: 2 }, left: { 'other queue': 1 } });
    const after = await sidekiqView();
    expect(after.retry.map((j: any) => j.queue)).toEqual(['mailers']);
    const defaultJobs = after.queues.default;
    expect(defaultJobs).toHaveLength(5);
    expect(defaultJobs.slice(0, 2).map((j: any) => j.jid).sort()).toEqual(retryJids);
    // Fresh enqueued_at, retry_count kept (Sidekiq counts retries from the payload).
    for (const j of defaultJobs.slice(0, 2)) {
      expect(Math.abs(j.enqueued_at - Date.now() / 1000)).toBeLessThan(30);
      expect(j.retry_count).toBe(0);
    }
  });

  it('retry-drain without --all takes only due retries (none are due yet)', async () => {
    const r = await cli(['queue', 'retry-drain', 'default', '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ considered: 0, moved: {} });
  });

  it('dead requeue: the queue\'s dead jobs back with retry_count 0; purge removes only that queue\'s', async () => {
    let r = await cli(['queue', 'dead', 'mailers', 'list', '--json']);
    expect(JSON.parse(r.stdout).total).toBe(2);
    r = await cli(['queue', 'dead', 'mailers', 'requeue', '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ moved: { requeued: 2 }, left: { 'other queue': 1 } });
    let view = await sidekiqView();
    expect(view.dead.map((j: any) => j.queue)).toEqual(['default']);
    expect(view.queues.mailers.slice(0, 2).map((j: any) => j.retry_count)).toEqual([0, 0]);
    r = await cli(['queue', 'dead', 'default', 'purge', '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ moved: { purged: 1 } });
    view = await sidekiqView();
    expect(view.dead).toEqual([]);
  });

  it('enqueue writes a payload Sidekiq reads: class, args, jid, queue, enqueued_at; and registers the queue', async () => {
    const r = await cli(['queue', 'enqueue', 'sidekiq:mailers', '{"args":[1,"two"]}', '--class', 'ReportJob', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/enqueued 1 job\(s\) on queue:mailers/);
    const view = await sidekiqView();
    const job = view.queues.mailers[0];
    expect(job).toMatchObject({ klass: 'ReportJob', args: [1, 'two'] });
    expect(job.jid).toMatch(/^[0-9a-f]{24}$/);
    expect(Math.abs(job.enqueued_at - Date.now() / 1000)).toBeLessThan(30);
  });

  it('BullMQ and RQ dead letters are read-only', async () => {
    await runPeer('node', 'bullmq_fill.mjs', [server.url]);
    let r = await cli(['queue', 'dead', 'bullmq:emails', 'list', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 1, jobs: [{ info: { failedReason: 'smtp down', name: 'send' } }] });
    r = await cli(['queue', 'dead', 'bullmq:emails', 'requeue', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bullmq's failed jobs are shown read-only/);
    r = await cli(['queue', 'retry-drain', 'bullmq:emails', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bullmq schedules its own retries/);
  });
});

describe('bad input changes nothing and says so in one line', () => {
  beforeEach(async () => {
    await redis.flushall();
    await runPeer('python', 'seed000.py', [server.url]);
  });

  it.each([
    [['queue', 'peek', 'tts_queue', '--count', 'ten'], /--count/],
    [['queue', 'dead', 'tts_queue', 'explode'], /unknown action "explode" \(list, requeue, purge\)/],
    [['queue', 'retry-drain', 'tts_queue', '--max-retries', '-1', '--yes'], /--max-retries/],
    [['queue', 'stats', '--watch', 'soon'], /--watch/],
    [['queue', 'enqueue', 'tts_queue', '[1,2]', '--yes'], /a job must be a JSON object/],
    [['queue', 'enqueue', 'tts_queue', '{"a":1}', '--file', '/nonexistent', '--yes'], /not more than one/],
    [['queue', 'enqueue', 'tts_queue', '--file', '/nonexistent/jobs.ndjson', '--yes'], /--file: cannot read \/nonexistent\/jobs.ndjson \(ENOENT\)/],
    [['queue', 'enqueue', 'tts_queue', '{"a":1}', '--priority', 'high', '--yes'], /--priority must be a number/],
    [['workers', '--stale-after', 'a while'], /--stale-after/],
  ])('%j', async (args, message) => {
    const before = await redis.dbsize();
    const snapshot = await redis.lrange('tts_queue', 0, -1);
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message as RegExp);
    expect(await redis.dbsize()).toBe(before);
    expect(await redis.lrange('tts_queue', 0, -1)).toEqual(snapshot);
  });

  it('an unreachable server is exit 1, one line, for every queue command', async () => {
    for (const args of [['queue', 'stats'], ['workers'], ['queue', 'retry-drain', 'x', '--yes']]) {
      const r = await runCli([...args, '--url', 'redis://127.0.0.1:1', '--timeout', '1s']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/127\.0\.0\.1:1/);
    }
  });

  it('queue stats --watch prints one JSON document per sample, with rates from the second on', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const child = spawn(process.execPath, [BIN, 'queue', 'stats', '--watch', '1s', '--json', '--url', server.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    while (out.split('\n').filter(Boolean).length < 1) await new Promise((r) => setTimeout(r, 50));
    await redis.lpush('tts_queue', '{"request_id":"w1"}', '{"request_id":"w2"}', '{"request_id":"w3"}');
    while (out.split('\n').filter(Boolean).length < 2) await new Promise((r) => setTimeout(r, 50));
    const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve); child.kill('SIGINT'); });
    expect(code).toBe(0);
    const [first, second] = out.trim().split('\n').map((l) => JSON.parse(l).queues[0]);
    expect(first.waitingPerSec).toBeNull();
    expect(second.waiting).toBe(first.waiting + 3);
    expect(second.waitingPerSec).toBeGreaterThan(0);
  });
});
