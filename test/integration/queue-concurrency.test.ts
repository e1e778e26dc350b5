import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

// Producers and consumers in other processes (test/peers/homegrown_app.mjs),
// consumers crashing mid-job, while two loops run retry-drain and
// workers reap --requeue-orphans over and over: at the end every job is
// present exactly once (done, or still queued somewhere).
const APP = fileURLToPath(new URL('../peers/homegrown_app.mjs', import.meta.url));
const N = 1500;
let server: LocalServer;
let redis: Redis;
// As a cron job would run it: the queue declared, so that an empty queue (no keys at all) is still known.
const config = join(mkdtempSync(join(tmpdir(), 'ro-conc-')), 'redis-ops.json');
writeFileSync(config, JSON.stringify({
  queues: [{ name: 'tts_queue', keys: { main: 'tts_queue', retry: 'tts_retry_queue', dead: 'tts_dead_letter_queue', processing: 'tts_queue:processing:*' } }],
}));

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

function app(...args: string[]): ChildProcess {
  return spawn(process.execPath, [APP, args[0], server.url, ...args.slice(1)], { stdio: 'ignore' });
}
const exited = (c: ChildProcess) => new Promise<number>((resolve) => { if (c.exitCode !== null) resolve(c.exitCode); else c.once('exit', (code) => resolve(code ?? 0)); });

it('no job is lost or duplicated while retry-drain and workers reap run repeatedly', async () => {
  const producers = [app('produce', '0', String(N / 2)), app('produce', String(N / 2), String(N / 2))];
  const consumers = new Set<ChildProcess>();
  let next = 0;
  const startConsumer = (crashAfter: number) => {
    const c = app('consume', `c${next++}`, String(crashAfter));
    consumers.add(c);
    c.once('exit', () => {
      consumers.delete(c);
      if (!stopping) startConsumer(-1);
    });
  };
  let stopping = false;
  for (const crash of [30, 60, 90, -1]) startConsumer(crash);

  const totals = { retried: 0, requeued: 0, forgotten: 0 };
  let failure: unknown = null;
  const loop = async () => {
    try {
      await steps();
    } catch (e) {
      failure = e;
      stopping = true;
    }
  };
  const steps = async () => {
    while (!stopping) {
      const d = await runCli(['queue', 'retry-drain', 'tts_queue', '--all', '--yes', '--json', '--url', server.url, '--config', config]);
      expect(d.stderr).toBe('');
      totals.retried += JSON.parse(d.stdout).moved.retried ?? 0;
      const r = await runCli(['workers', 'reap', '--requeue-orphans', '--stale-after', '2s', '--yes', '--json', '--url', server.url, '--config', config]);
      expect(r.stderr).toBe('');
      const res = JSON.parse(r.stdout);
      totals.requeued += res.requeued;
      totals.forgotten += res.forgotten;
    }
  };
  const loops = [loop(), loop()];
  const deadline = Date.now() + 90_000;
  await Promise.all(producers.map(exited));
  while (!stopping && Date.now() < deadline && (await redis.llen('done')) < N) await new Promise((r) => setTimeout(r, 200));
  stopping = true;
  await Promise.all(loops);
  if (failure) throw failure;
  for (const c of consumers) c.kill('SIGTERM');
  await Promise.all([...consumers].map(exited));

  const ids = new Map<string, number>();
  const count = (id: string) => ids.set(id, (ids.get(id) ?? 0) + 1);
  for (const id of await redis.lrange('done', 0, -1)) count(id);
  const lists = ['tts_queue', 'tts_retry_queue', ...(await redis.keys('tts_queue:processing:*'))];
  for (const key of lists) for (const item of await redis.lrange(key, 0, -1)) count(JSON.parse(item).request_id);
  const dupes = [...ids].filter(([, n]) => n !== 1);
  expect(dupes).toEqual([]);
  expect(ids.size).toBe(N);
  // The crashed consumers' jobs came back through reap, and failed jobs through retry-drain.
  expect(totals.requeued).toBeGreaterThanOrEqual(3);
  expect(totals.forgotten).toBeGreaterThanOrEqual(3);
  expect(totals.retried).toBeGreaterThan(0);
  expect(await redis.llen('done')).toBe(N);
}, 120_000);
