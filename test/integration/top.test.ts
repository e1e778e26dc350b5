/**
 * `top` (issue 17): rates from two samples of real servers under real load
 * (redis-benchmark), queue arrivals and departures, replicas, a cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startCluster, startServer, type LocalCluster, type LocalServer } from '../helpers/redis.js';
import { runCli, until } from '../helpers/cli.js';
import { openTarget } from '../../src/lib/connect/target.js';
import { resolveConnection } from '../../src/lib/connect/spec.js';
import { TopSampler, snapshot } from '../../src/lib/top/top.js';

let server: LocalServer;
let replica: LocalServer;
let redis: Redis;

async function target(url: string) {
  return openTarget(await resolveConnection({ url }, { env: {}, config: { path: null, profiles: {}, sections: {} }, warn: () => {} }));
}

/** redis-benchmark against a server until stopped: load from a real client. */
function load(port: number): ChildProcess {
  return spawn('redis-benchmark', ['-p', String(port), '-n', '100000000', '-c', '4', '-t', 'ping', '-q'], { stdio: 'ignore' });
}

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  replica = await startServer({ args: ['--replicaof', '127.0.0.1', String(server.port)] });
  const r = clientFor(replica);
  await until(async () => /master_link_status:up/.test(await r.info('replication')), 'replica linked');
  r.disconnect();
});
afterAll(async () => {
  redis.disconnect();
  await replica.stop();
  await server.stop();
});

describe('top', () => {
  it('counts exactly the jobs pushed and taken between two samples, at either end a system pushes at', async () => {
    await redis.lpush('mail_queue', ...Array.from({ length: 10 }, (_, i) => `{"id":"m${i}"}`));
    await redis.rpush('rq:queue:default', 'a', 'b', 'c');
    await redis.sadd('rq:queues', 'rq:queue:default');
    const t = await target(server.url);
    const sampler = await TopSampler.open(t, {
      queues: { dbs: [0], declared: [{ name: 'mail_queue', system: 'homegrown' }, { name: 'default', system: 'rq' }], discover: false, names: [] },
      slowlog: 0,
    });
    try {
      const first = await sampler.sample(null);
      // Home-grown: LPUSH at the head, workers RPOP the tail. RQ: RPUSH at the tail, LPOP the head.
      await redis.lpush('mail_queue', ...Array.from({ length: 7 }, (_, i) => `{"id":"n${i}"}`));
      for (let i = 0; i < 3; i++) await redis.rpop('mail_queue');
      await redis.rpush('rq:queue:default', 'd', 'e', 'f', 'g', 'h');
      await redis.lpop('rq:queue:default', 2);
      for (let i = 0; i < 500; i++) await redis.set(`k${i}`, 'v');
      const snap = snapshot(first, await sampler.sample(first));
      const mail = snap.queues.find((q) => q.name === 'mail_queue')!;
      expect(mail).toMatchObject({ system: 'homegrown', waiting: 14, arrived: 7, departed: 3, ratesExact: true });
      expect(snap.queues.find((q) => q.name === 'default')).toMatchObject({ system: 'rq', waiting: 6, arrived: 5, departed: 2, ratesExact: true });
      // 500 SETs and the few reads of the sampler itself, over the interval.
      const node = snap.nodes.find((n) => n.node === `127.0.0.1:${server.port}`)!;
      const ops = Math.round(node.opsPerSec! * snap.intervalSec);
      expect(ops).toBeGreaterThanOrEqual(500);
      expect(ops).toBeLessThan(560);
      // The replica is found from the primary's INFO, with its lag in bytes.
      expect(snap.nodes.map((n) => [n.node, n.role])).toEqual([[`127.0.0.1:${server.port}`, 'master'], [`127.0.0.1:${replica.port}`, 'replica']]);
      expect(typeof snap.nodes[1]!.replLagBytes).toBe('number');
    } finally {
      sampler.close();
      await t.close();
      await redis.del('mail_queue', 'rq:queue:default', 'rq:queues');
    }
  });

  it('a queue drained past the newest job seen gives lower bounds, said so', async () => {
    await redis.lpush('burst_queue', 'j1', 'j2');
    const t = await target(server.url);
    const sampler = await TopSampler.open(t, { queues: { dbs: [0], declared: [{ name: 'burst_queue', system: 'homegrown' }], discover: false, names: [] }, slowlog: 0 });
    try {
      const first = await sampler.sample(null);
      await redis.del('burst_queue');
      await redis.lpush('burst_queue', 'j3');
      const q = snapshot(first, await sampler.sample(first)).queues[0]!;
      expect(q).toMatchObject({ waiting: 1, arrived: 1, departed: 2, ratesExact: false });
    } finally {
      sampler.close();
      await t.close();
      await redis.del('burst_queue');
    }
  });

  it('top --once --json under redis-benchmark load: non-zero ops/s on the loaded node, the queue being fed and drained', async () => {
    await redis.lpush('feed_queue', ...Array.from({ length: 20000 }, (_, i) => `{"id":"b${i}"}`));
    const bench = load(server.port);
    const feeder = clientFor(server);
    const drainer = clientFor(server);
    let stop = false;
    let n = 0;
    const feeding = (async () => { while (!stop) await feeder.lpush('feed_queue', `{"id":"f${n++}"}`); })();
    const draining = (async () => { while (!stop) await drainer.rpop('feed_queue'); })();
    try {
      await until(async () => /total_commands_processed:[1-9]\d{4,}/.test(await redis.info('stats')), 'load under way');
      const r = await runCli(['top', '--once', '--json', '--url', server.url, '--interval', '1s', '--slowlog', '0']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { nodes: { node: string; role: string; opsPerSec: number; clients: number }[]; queues: { name: string; inPerSec: number; outPerSec: number; ratesExact: boolean }[]; totals: { nodes: number } };
      const primary = doc.nodes.find((x) => x.node === `127.0.0.1:${server.port}`)!;
      expect(primary.role).toBe('master');
      expect(primary.opsPerSec).toBeGreaterThan(1000);
      expect(primary.clients).toBeGreaterThanOrEqual(7);
      expect(doc.totals.nodes).toBe(2);
      const feed = doc.queues.find((q) => q.name === 'feed_queue')!;
      expect(feed.ratesExact).toBe(true);
      expect(feed.inPerSec).toBeGreaterThan(0);
      expect(feed.outPerSec).toBeGreaterThan(0);
      // The text snapshot off a terminal: one table per pane.
      const text = await runCli(['top', '--once', '--url', server.url, '--interval', '200ms', '--no-queues', '--slowlog', '0']);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^redis-ops top .*\n2 node\(s\) /);
      expect(text.stdout).toMatch(/^node +role +ops\/s/m);
    } finally {
      stop = true;
      bench.kill('SIGKILL');
      await Promise.allSettled([feeding, draining]);
      feeder.disconnect();
      drainer.disconnect();
      await redis.del('feed_queue');
    }
  });

  it('live at a terminal: frames drawn in place on the alternate screen, s and p redraw, q and Ctrl-C put the terminal back', async () => {
    const { runInTty, screenLines } = await import('../helpers/tty.js');
    const r = await runInTty(['top', '--url', server.url, '--no-queues', '--interval', '300ms'], { cols: 100, keys: ['s', 'p', 'q'], waitFor: /q quit/ });
    expect(r.code, r.output).toBe(0);
    // The alternate screen and a hidden cursor while it runs; both undone last.
    expect(r.output.indexOf('\x1b[?1049h\x1b[?25l')).toBeGreaterThanOrEqual(0);
    expect(r.output.lastIndexOf('\x1b[?25h\x1b[?1049l')).toBeGreaterThan(r.output.lastIndexOf('q quit'));
    // Drawn over in place: no screen clear between frames.
    expect(r.output).not.toContain('\x1b[2J');
    expect(r.output).toContain('sort: memory');
    expect(r.output).toContain('PAUSED');
    const frame = screenLines(r.output.slice(0, r.output.lastIndexOf('\x1b[?25h\x1b[?1049l')));
    expect(frame.filter((l) => l.trimEnd().length > 100)).toEqual([]);
    expect(frame[0]).toMatch(/^redis-ops top /);
    const ctrlC = await runInTty(['top', '--url', server.url, '--no-queues', '--interval', '300ms'], { cols: 100, keys: ['\x03'], waitFor: /q quit/ });
    expect(ctrlC.code).toBe(0);
    // After the last frame (its erase-below), the terminal is given back.
    expect(ctrlC.output.lastIndexOf('\x1b[?25h\x1b[?1049l')).toBeGreaterThan(ctrlC.output.lastIndexOf('\x1b[J'));
  });

  it('bad input: a bad interval is exit 2; an unreachable server exit 1', async () => {
    const bad = await runCli(['top', '--once', '--url', server.url, '--interval', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --interval: "soon" is not a duration (examples: 500ms, 90s, 10m, 1h30m, 7d)\n');
    const down = await runCli(['top', '--once', '--url', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe('error: cannot connect to 127.0.0.1:1: connection refused (is the server running? check --host/--port/--url)\n');
  });
});

describe('top on a 3-master cluster', () => {
  let cluster: LocalCluster;
  beforeAll(async () => { cluster = await startCluster(); });
  afterAll(async () => { await cluster.stop(); });

  it('shows every node, with the loaded one busiest', async () => {
    const bench = load(cluster.nodes[1]!.port);
    try {
      await until(async () => {
        const c = clientFor(cluster.nodes[1]!);
        const busy = /total_commands_processed:[1-9]\d{4,}/.test(await c.info('stats'));
        c.disconnect();
        return busy;
      }, 'load under way');
      const r = await runCli(['top', '--once', '--json', '--url', cluster.url, '--no-queues', '--interval', '1s']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { nodes: { node: string; opsPerSec: number; role: string }[]; totals: { nodes: number; opsPerSec: number } };
      expect(doc.nodes.map((n) => n.node).sort()).toEqual(cluster.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
      expect(doc.totals.nodes).toBe(3);
      const busiest = [...doc.nodes].sort((a, b) => b.opsPerSec - a.opsPerSec)[0]!;
      expect(busiest.node).toBe(`127.0.0.1:${cluster.nodes[1]!.port}`);
    } finally {
      bench.kill('SIGKILL');
    }
  });
});

