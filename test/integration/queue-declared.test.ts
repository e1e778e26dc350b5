/**
 * A queue declared in the config file, exactly as the docs show, is read the
 * same as the same queue found by discovery (issue 16: declared Sidekiq and
 * BullMQ queues counted `LLEN undefined`, 0 jobs). Data from each system's
 * own client. Written to fail on the code before the fix.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

const DB = { homegrown: 0, sidekiq: 1, rq: 2, celery: 3, bullmq: 4 } as const;
let server: LocalServer;
const dir = mkdtempSync(join(tmpdir(), 'ro-declared-'));

beforeAll(async () => {
  server = await startServer();
  const url = (db: number) => `${server.url}/${db}`;
  await Promise.all([
    runPeer('python', 'seed000.py', [url(DB.homegrown)]),
    runPeer('ruby', 'sidekiq_fill.rb', [], { REDIS_URL: url(DB.sidekiq) }),
    runPeer('python', 'rq_fill.py', [url(DB.rq)]),
    runPeer('python', 'celery_fill.py', [url(DB.celery)]),
    runPeer('node', 'bullmq_fill.mjs', [url(DB.bullmq)]),
  ]);
}, 120_000);
afterAll(async () => {
  await server.stop();
});

async function stats(db: number, config?: string): Promise<any[]> {
  const r = await runCli(['queue', 'stats', '--json', '--url', `${server.url}/${db}`, ...(config ? ['--config', config] : [])]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).queues;
}

const FIGURES = ['waiting', 'active', 'delayed', 'retry', 'dead', 'completed'] as const;

describe('declared queues equal discovered ones, for every system', () => {
  for (const system of Object.keys(DB) as (keyof typeof DB)[]) {
    it(system, async () => {
      const found = (await stats(DB[system])).filter((q) => q.system === system);
      expect(found.length).toBeGreaterThan(0);
      const config = join(dir, `${system}.json`);
      writeFileSync(config, JSON.stringify({ queues: found.map((q) => ({ name: q.name, system, db: DB[system] })) }), { mode: 0o600 });
      const declared = await stats(DB[system], config);
      for (const q of found) {
        const d = declared.find((x) => x.name === q.name && x.system === system);
        expect(d, `${system} ${q.name} declared`).toBeDefined();
        for (const f of FIGURES) expect(d[f], `${system} ${q.name} ${f}`).toBe(q[f]);
        expect(d.oldestWaitingAgeSec === null, `${system} ${q.name} oldest`).toBe(q.oldestWaitingAgeSec === null);
      }
      expect(found.reduce((n, q) => n + (q.waiting ?? 0), 0)).toBeGreaterThan(0);
    });
  }
});
