import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.end(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

describe('sandbox', () => {
  it('starts a filled server, prints its URL, and stops it on Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, 'sandbox', '--json', '--keys', '400', '--no-big'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const info = await new Promise<{ url: string; keys: number; patterns: Record<string, number> }>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          resolve(JSON.parse(out));
          clearInterval(timer);
        } catch { /* not complete yet */ }
      }, 50);
      child.on('exit', () => { clearInterval(timer); reject(new Error(`sandbox exited early: ${out}`)); });
    });
    const port = Number(new URL(info.url).port);

    const stats = await runCli(['keys', 'stats', '--url', info.url, '--json']);
    const s = JSON.parse(stats.stdout);
    expect(s.scanned).toBe(info.keys);
    const types = new Set(s.types.map((t: { type: string }) => t.type));
    expect(types).toEqual(new Set(['string', 'hash', 'list', 'set', 'zset', 'stream']));
    expect(s.ttl.none).toBeGreaterThan(0);
    expect(s.ttl.under1h).toBeGreaterThan(0);
    const binary = await runCli(['keys', 'scan', 'bin:*', '--url', info.url, '--json']);
    expect(binary.stdout).toContain('"key64"');
    // Queues of every kind, and workers alive and dead, to try the queue commands on.
    const queues = JSON.parse((await runCli(['queue', 'stats', '--url', info.url, '--json'])).stdout).queues;
    expect(queues.map((q: { system: string; name: string }) => `${q.system}:${q.name}`).sort()).toEqual([
      'bullmq:emails', 'celery:celery', 'homegrown:queue:reports', 'homegrown:tts_queue', 'rq:default', 'sidekiq:default', 'sidekiq:mailers',
    ]);
    const workers = JSON.parse((await runCli(['workers', '--url', info.url, '--json'])).stdout);
    expect(new Set(workers.workers.filter((w: { alive: boolean }) => !w.alive).map((w: { system: string }) => w.system))).toEqual(new Set(['homegrown', 'sidekiq', 'rq']));
    expect(workers.orphans.filter((o: { requeueable: boolean }) => o.requeueable).map((o: { job: string }) => o.job)).toEqual(['rep-crashed']);
    const drain = JSON.parse((await runCli(['queue', 'retry-drain', 'tts_queue', '--dry-run', '--json', '--url', info.url])).stdout);
    expect(drain).toMatchObject({ moved: { retried: 2 }, left: { 'not due': 3, malformed: 1 } });

    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(await portOpen(port)).toBe(false);
  });

  it('--cluster starts a filled 3-master cluster (it used to fail on a cross-slot pipeline)', async () => {
    const child = spawn(process.execPath, [BIN, 'sandbox', '--cluster', '--json', '--keys', '400', '--no-big'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const info = await new Promise<{ url: string; cluster: boolean; keys: number }>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          resolve(JSON.parse(out));
          clearInterval(timer);
        } catch { /* not complete yet */ }
      }, 50);
      child.on('exit', () => { clearInterval(timer); reject(new Error(`sandbox exited early: ${out}${err}`)); });
    });
    try {
      expect(info.cluster).toBe(true);
      const stats = JSON.parse((await runCli(['keys', 'stats', '--url', info.url, '--json'])).stdout);
      expect(stats.scanned).toBe(info.keys);
      expect(stats.nodes).toHaveLength(3);
      expect(new Set(stats.types.map((t: { type: string }) => t.type))).toEqual(new Set(['string', 'hash', 'list', 'set', 'zset', 'stream']));
    } finally {
      const code = await new Promise<number | null>((resolve) => {
        child.on('exit', (c) => resolve(c));
        child.kill('SIGINT');
      });
      expect(code).toBe(0);
    }
  });

  it('says how to install redis-server when it is missing', async () => {
    const r = await runCli(['sandbox', '--keys', '10'], { env: { REDIS_SERVER_BIN: '/nonexistent/redis-server' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('redis-server not found');
    expect(r.stderr).toContain('apt-get install -y redis-server');
  });
});
