import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli, until } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';
import { series, startExporter, type RunningExporter, type Scrape } from '../helpers/exporter.js';

// The queue systems' own clients fill one database each; the exporter must
// report what `queue stats`, `workers` and `locks list` report for them.
const DB = { seed: 0, sidekiq: 1, rq: 2, celery: 3, bullmq: 4 };
let server: LocalServer;
let other: LocalServer;
let redis: Redis;
let exporter: RunningExporter;
let config: string;
const dir = mkdtempSync(join(tmpdir(), 'ro-exp-'));
const ESC_KEY = Buffer.from('\x1b[2Jevil:1');

beforeAll(async () => {
  [server, other] = await Promise.all([startServer(), startServer()]);
  redis = clientFor(server);
  const url = (db: number) => `${server.url}/${db}`;
  await Promise.all([
    runPeer('python', 'seed000.py', [url(DB.seed)]),
    runPeer('ruby', 'sidekiq_fill.rb', [], { REDIS_URL: url(DB.sidekiq) }),
    runPeer('python', 'rq_fill.py', [url(DB.rq)]),
    runPeer('python', 'celery_fill.py', [url(DB.celery)]),
    runPeer('node', 'bullmq_fill.mjs', [url(DB.bullmq)]),
  ]);
  await redis.set('lock:report', 'holder-1');
  await redis.set('lock:nightly', 'holder-2', 'EX', 600);
  await redis.set(ESC_KEY, 'x');
  config = join(dir, 'redis-ops.json');
  writeFileSync(config, JSON.stringify({ profiles: { other: { url: other.url } }, locks: { patterns: ['lock:*'], staleAfter: '1h' } }));
  exporter = await startExporter(['--url', server.url, '--config', config, '--all-dbs', '--keys-interval', '1h', '--keys-rate', '100000', '--keys-groups', '500']);
}, 120_000);
afterAll(async () => {
  await exporter?.stop();
  redis.disconnect();
  await Promise.all([server.stop(), other.stop()]);
});

const QUEUE_FIELDS: [string, string][] = [
  ['waiting', 'redis_ops_queue_waiting'], ['active', 'redis_ops_queue_active'], ['delayed', 'redis_ops_queue_delayed'],
  ['retry', 'redis_ops_queue_retry'], ['dead', 'redis_ops_queue_dead'], ['completed', 'redis_ops_queue_completed'],
];

function promtool(args: string[], input?: string) {
  return spawnSync('promtool', args, { input, encoding: 'utf8' });
}

describe('exporter: what it serves', () => {
  it('queue gauges equal `queue stats --json` for Sidekiq, BullMQ, RQ, Celery and the seed\'s home-grown queue', async () => {
    const r = await runCli(['queue', 'stats', '--url', server.url, '--all-dbs', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const queues = JSON.parse(r.stdout).queues as any[];
    expect(queues.map((q) => `${q.system}:${q.name}`).sort()).toEqual([
      'bullmq:emails', 'bullmq:reports', 'celery:celery', 'celery:emails', 'homegrown:tts_queue', 'rq:high', 'rq:low', 'sidekiq:default', 'sidekiq:mailers',
    ]);
    const m = await exporter.metrics();
    for (const q of queues) {
      const labels = { queue: q.name, system: q.system, db: q.db };
      for (const [field, metric] of QUEUE_FIELDS) {
        // A figure the system does not have (null) has no series.
        expect(m.get(series(metric, labels)), `${metric} ${q.system}:${q.name}`).toBe(q[field] === null ? undefined : q[field]);
      }
      const age = m.get(series('redis_ops_queue_oldest_waiting_age_seconds', labels));
      if (q.oldestWaitingAgeSec === null) expect(age).toBeUndefined();
      else expect(Math.abs(age! - q.oldestWaitingAgeSec)).toBeLessThan(30);
    }
    expect(m.get(series('redis_ops_queue_waiting', { queue: 'default', system: 'sidekiq', db: 1 }))).toBe(3);
  });

  it('workers alive and dead per system and orphans equal `workers --json`', async () => {
    const m = await exporter.metrics();
    for (const db of [DB.seed, DB.sidekiq, DB.rq, DB.bullmq]) {
      const r = await runCli(['workers', '--url', `${server.url}/${db}`, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      for (const system of new Set(doc.workers.map((w: any) => w.system))) {
        const mine = doc.workers.filter((w: any) => w.system === system);
        expect(m.get(series('redis_ops_workers', { system: String(system), db, state: 'alive' }))).toBe(mine.filter((w: any) => w.alive).length);
        expect(m.get(series('redis_ops_workers', { system: String(system), db, state: 'dead' }))).toBe(mine.filter((w: any) => !w.alive).length);
        expect(m.get(series('redis_ops_orphaned_jobs', { system: String(system), db }))).toBe(doc.orphans.filter((o: any) => o.system === system).length);
      }
    }
    expect(m.get(series('redis_ops_workers', { system: 'homegrown', db: 0, state: 'dead' }))).toBe(1);
  });

  it('locks per configured pattern, and stale ones by the locks rule', async () => {
    const m = await exporter.metrics();
    expect(m.get(series('redis_ops_locks', { pattern: 'lock:*', db: 0 }))).toBe(2);
    expect(m.get(series('redis_ops_locks_stale', { pattern: 'lock:*', db: 0 }))).toBe(0);
    expect(m.get('redis_ops_locks_walk_age_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('server figures per node: up, INFO essentials, every health check as `redis-ops health` grades it', async () => {
    const m = await exporter.metrics();
    const node = `127.0.0.1:${server.port}`;
    expect(m.get(series('redis_ops_up', { node }))).toBe(1);
    expect(m.get(series('redis_ops_node_info', { node, role: 'master', version: '7.0.15', mode: 'standalone' }))).toBe(1);
    expect(m.get(series('redis_ops_memory_used_bytes', { node }))).toBeGreaterThan(0);
    const sidekiq = clientFor(server, DB.sidekiq);
    expect(m.get(series('redis_ops_keyspace_keys', { node, db: DB.sidekiq }))).toBe(await sidekiq.dbsize());
    sidekiq.disconnect();
    const h = await runCli(['health', '--url', server.url, '--json']);
    const checks = JSON.parse(h.stdout).checks as any[];
    expect(checks.length).toBeGreaterThan(5);
    const value = { ok: 0, warn: 1, crit: 2, unknown: 3 } as Record<string, number>;
    for (const c of checks.filter((x) => x.name !== 'ping')) {
      expect(m.get(series('redis_ops_health_check_status', { check: c.name, node })), c.name).toBe(value[c.status]);
    }
  });

  it('key patterns from the background walk equal `keys stats --json`, escape bytes written visibly', async () => {
    let m: Scrape = new Map();
    await until(async () => (m = await exporter.metrics()).has('redis_ops_keys_walk_age_seconds'), 'the first key walk');
    const r = await runCli(['keys', 'stats', '--url', server.url, '--all-dbs', '--json', '--groups', '500']);
    const groups = (JSON.parse(r.stdout).groups as any[]).filter((g) => g.pattern !== '[other]');
    expect(groups.length).toBeGreaterThan(3);
    for (const g of groups) {
      const key = [...m.keys()].find((k) => k.startsWith('redis_ops_keys_pattern_keys{') && k.includes(`db="${g.db}"`) && k.includes(`pattern="${g.pattern.replace(/\\/g, '\\\\')}"`));
      expect(key, g.pattern).toBeDefined();
      expect(m.get(key!)).toBe(g.count);
    }
    const text = (await exporter.scrape()).text;
    expect(text).not.toContain('\x1b');
    expect(text).toMatch(/redis_ops_keys_pattern_keys\{db="0",pattern="\\\\x1b\[2Jevil:\*"\} 1/);
  });

  it('promtool check metrics passes on a scrape; OpenMetrics when the scraper asks for it', async () => {
    const plain = await exporter.scrape();
    expect(plain.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const check = promtool(['check', 'metrics'], plain.text);
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
    const om = await exporter.scrape('/metrics', { accept: 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5' });
    expect(om.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.text.endsWith('# EOF\n')).toBe(true);
    expect(om.text).toContain('# TYPE redis_ops_commands_processed counter\n');
    expect(om.text).toMatch(/^redis_ops_commands_processed_total\{node="[^"]+"\} \d+$/m);
  });

  it('/probe serves a profile by name and refuses any other target; /healthz; unknown paths and methods', async () => {
    const m = await exporter.metrics('/probe?target=other');
    expect(m.get(series('redis_ops_up', { node: `127.0.0.1:${other.port}` }))).toBe(1);
    expect([...m.keys()].some((k) => k.includes(`127.0.0.1:${server.port}`))).toBe(false);
    for (const target of ['', '%20', 'nope', encodeURIComponent(`redis://:secret@127.0.0.1:${server.port}`), `127.0.0.1:${server.port}`]) {
      const r = await exporter.scrape(`/probe?target=${target}`);
      expect(r.status, target).toBe(400);
      expect(r.text).not.toContain('secret');
    }
    expect((await exporter.scrape('/probe')).status).toBe(400);
    expect(await exporter.scrape('/healthz')).toMatchObject({ status: 200, text: 'ok\n' });
    expect((await exporter.scrape('/nope')).status).toBe(404);
    expect((await fetch(`${exporter.base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('--allow-any-target lets /probe reach a URL; the log never shows its password', async () => {
    const admin = clientFor(other);
    await admin.config('SET', 'requirepass', 'pw-xyz');
    admin.disconnect();
    const any = await startExporter(['--url', server.url, '--allow-any-target', '--no-keys']);
    try {
      const m = await any.metrics(`/probe?target=${encodeURIComponent(`redis://:pw-xyz@127.0.0.1:${other.port}`)}`);
      expect(m.get(series('redis_ops_up', { node: `127.0.0.1:${other.port}` }))).toBe(1);
      const bad = await any.metrics(`/probe?target=${encodeURIComponent(`redis://:wrong-pw@127.0.0.1:${other.port}`)}`);
      expect(bad.get(series('redis_ops_up', { node: `127.0.0.1:${other.port}` }))).toBe(0);
    } finally {
      const { code, stderr } = await any.stop();
      const back = clientFor(other, 0, 'pw-xyz');
      await back.config('SET', 'requirepass', '');
      back.disconnect();
      expect(code).toBe(0);
      expect(stderr).not.toContain('pw-xyz');
      expect(stderr).not.toContain('wrong-pw');
      expect(stderr).toMatch(/probe 127\.0\.0\.1:\d+: connect: .*(WRONGPASS|password|auth)/i);
    }
  });
});

describe('exporter: slowlog and restricted users', () => {
  it('slow commands per command since the exporter started, its own left out', async () => {
    const own = await startServer({ args: ['--slowlog-log-slower-than', '0', '--slowlog-max-len', '1000'] });
    const c = clientFor(own);
    const node = `127.0.0.1:${own.port}`;
    const e = await startExporter(['--url', own.url, '--no-keys', '--no-queues']);
    try {
      await c.set('before', '1'); // before the first scrape: not counted
      const first = await e.metrics();
      expect(first.get(series('redis_ops_slowlog_entries_total', { node, command: 'SET' }))).toBeUndefined();
      for (let i = 0; i < 5; i++) await c.set(`k${i}`, 'v');
      await c.get('k1');
      const second = await e.metrics();
      expect(second.get(series('redis_ops_slowlog_entries_total', { node, command: 'SET' }))).toBe(5);
      expect(second.get(series('redis_ops_slowlog_entries_total', { node, command: 'GET' }))).toBe(1);
      // The exporter's INFO, SLOWLOG and CONFIG calls are its own: never counted.
      for (const cmd of ['INFO', 'SLOWLOG', 'CONFIG', 'PING']) expect(second.get(series('redis_ops_slowlog_entries_total', { node, command: cmd })), cmd).toBeUndefined();
      await c.set('k9', 'v');
      expect((await e.metrics()).get(series('redis_ops_slowlog_entries_total', { node, command: 'SET' }))).toBe(6);
    } finally {
      await e.stop();
      c.disconnect();
      await own.stop();
    }
  });

  it('an ACL user without CONFIG and SLOWLOG: every other figure, no crash, no slowlog series', async () => {
    const own = await startServer();
    const admin = clientFor(own);
    await admin.call('ACL', 'SETUSER', 'mon', 'on', '>mon-pw', '~*', '+@read', '+ping', '+info', '+client|setname', '+role', '+select', '-slowlog', '-config');
    await admin.rpush('tts_queue', '{"request_id":"a"}', '{"request_id":"b"}');
    const node = `127.0.0.1:${own.port}`;
    const e = await startExporter(['--url', `redis://mon:mon-pw@127.0.0.1:${own.port}`, '--no-keys']);
    try {
      const m = await e.metrics();
      expect(m.get(series('redis_ops_up', { node }))).toBe(1);
      expect(m.get(series('redis_ops_memory_used_bytes', { node }))).toBeGreaterThan(0);
      expect(m.get(series('redis_ops_queue_waiting', { queue: 'tts_queue', system: 'homegrown', db: 0 }))).toBe(2);
      expect(m.get(series('redis_ops_exporter_collector_success', { collector: 'server' }))).toBe(1);
      expect([...m.keys()].some((k) => k.startsWith('redis_ops_slowlog_entries_total'))).toBe(false);
    } finally {
      const { stderr } = await e.stop();
      expect(stderr).not.toContain('mon-pw');
      admin.disconnect();
      await own.stop();
    }
  });
});

describe('exporter: bad input changes nothing and says so', () => {
  it.each([
    [['--listen', ''], /--listen: "" is not host:port/],
    [['--listen', '  '], /--listen/],
    [['--listen', 'localhost'], /--listen: "localhost" is not host:port/],
    [['--listen', '127.0.0.1:70000'], /--listen/],
    [['--keys-rate', '0'], /--keys-rate: "0" is not a positive whole number/],
    [['--scrape-timeout', 'soon'], /--scrape-timeout/],
    [['--refresh-interval', '10ms'], /--refresh-interval: "10ms" is too short/],
  ])('%j is exit 2', async (args, message) => {
    const r = await runCli(['exporter', '--url', server.url, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('a port already in use is exit 1, naming it', async () => {
    const port = new URL(exporter.base).port;
    const r = await runCli(['exporter', '--url', server.url, '--listen', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });

  it('promtool check rules passes on the shipped alert rules', () => {
    const r = promtool(['check', 'rules', 'contrib/prometheus/alerts.yml']);
    expect(r.stdout, r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('every metric the alert rules and the Grafana dashboard use is one the exporter serves', async () => {
    const served = new Set([...(await exporter.metrics()).keys()].map((k) => k.split('{')[0]!));
    // Families that only appear when something is wrong or present (replicas, AOF) are declared here.
    const conditional = ['redis_ops_replica_link_up', 'redis_ops_replica_lag_bytes', 'redis_ops_replica_last_io_age_seconds', 'redis_ops_aof_last_write_ok', 'redis_ops_slowlog_entries_total'];
    const { readFileSync } = await import('node:fs');
    for (const file of ['contrib/prometheus/alerts.yml', 'contrib/grafana/redis-ops.json']) {
      const names = new Set(readFileSync(file, 'utf8').match(/redis_ops_[a-z_]+/g));
      expect(names.size, file).toBeGreaterThan(5);
      for (const n of names) expect(served.has(n) || conditional.includes(n), `${file}: ${n}`).toBe(true);
    }
    expect(JSON.parse(execFileSync('cat', ['contrib/grafana/redis-ops.json'], { encoding: 'utf8' })).panels.length).toBeGreaterThan(5);
  });
});

describe('exporter: a server that stops, freezes or restarts', () => {
  it('stopped: up 0 at once and one log line; restarted on its port: up 1 again, and "ok again" once', async () => {
    const own = await startServer();
    const node = `127.0.0.1:${own.port}`;
    const e = await startExporter(['--url', own.url, '--no-keys', '--scrape-timeout', '2s', '--discover-interval', '1s']);
    try {
      expect((await e.metrics()).get(series('redis_ops_up', { node }))).toBe(1);
      await own.stop();
      for (let i = 0; i < 3; i++) expect((await e.metrics()).get(series('redis_ops_up', { node }))).toBe(0);
      const restarted = await startServer({ port: own.port });
      try {
        await until(async () => (await e.metrics()).get(series('redis_ops_up', { node })) === 1, 'up 1 after the restart');
        // Queues are found again on the new server (every --discover-interval).
        const c = clientFor(restarted);
        await c.rpush('tts_queue', '{"request_id":"r1"}');
        c.disconnect();
        await until(async () => (await e.metrics()).get(series('redis_ops_queue_waiting', { queue: 'tts_queue', system: 'homegrown', db: 0 })) === 1, 'the queue found after the restart');
        const { stderr } = await e.stop();
        const problemLines = stderr.split('\n').filter((l) => l.includes(`${node}: connect:`));
        expect(problemLines).toHaveLength(1);
        expect(stderr.split('\n').filter((l) => l.includes(`ok again: ${node} connect`))).toHaveLength(1);
        expect(stderr).toMatch(/ stopped\n$/);
      } finally {
        await restarted.stop();
      }
    } finally {
      e.cli.child.kill('SIGKILL');
    }
  });

  it('frozen (SIGSTOP): the scrape answers within --scrape-timeout, the late collector marked, no stale figure served as fresh', async () => {
    const own = await startServer();
    const node = `127.0.0.1:${own.port}`;
    const e = await startExporter(['--url', own.url, '--no-keys', '--scrape-timeout', '500ms']);
    try {
      expect((await e.metrics()).get(series('redis_ops_up', { node }))).toBe(1);
      own.process.kill('SIGSTOP');
      try {
        const frozen = await e.metrics();
        expect(frozen.get(series('redis_ops_exporter_collector_success', { collector: 'server' }))).toBe(0);
        expect(frozen.get(series('redis_ops_memory_used_bytes', { node }))).toBeUndefined();
        expect(frozen.get(series('redis_ops_up', { node }))).toBeUndefined();
        // A second scrape waits on the same stalled call, not a new one piled onto the connection.
        const again = await e.metrics();
        expect(again.get(series('redis_ops_exporter_collector_success', { collector: 'server' }))).toBe(0);
      } finally {
        own.process.kill('SIGCONT');
      }
      await until(async () => (await e.metrics()).get(series('redis_ops_up', { node })) === 1, 'up 1 after SIGCONT');
    } finally {
      const { code } = await e.stop();
      expect(code).toBe(0);
      await own.stop();
    }
  });

  it('SIGTERM: stops listening, closes its connections, exit 0', async () => {
    const own = await startServer();
    const e = await startExporter(['--url', own.url, '--no-keys', '--all-dbs']);
    const c = clientFor(own, 2);
    await c.rpush('tts_queue', '{"request_id":"a"}');
    c.disconnect();
    await e.metrics();
    const { code, stderr } = await e.stop();
    expect(code).toBe(0);
    expect(stderr).toMatch(/ stopped\n$/);
    await expect(fetch(`${e.base}/healthz`)).rejects.toThrow();
    const check = clientFor(own);
    const clients = String(await check.call('CLIENT', 'LIST'));
    check.disconnect();
    await own.stop();
    expect(clients).not.toMatch(/name=redis-ops/);
  });
});

describe('exporter: a Sentinel failover', () => {
  it('follows the new master: the demoted one is let go, the promoted one is read, queue figures carry on', async () => {
    const { startSentinel } = await import('../helpers/redis.js');
    const master = await startServer();
    const replica = await startServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    const m = clientFor(master);
    const r = clientFor(replica);
    await m.rpush('tts_queue', '{"request_id":"a"}', '{"request_id":"b"}');
    await until(async () => /master_link_status:up/.test(await r.info('replication')), 'the replica in sync');
    const sentinel = await startSentinel(master, 'mymaster');
    const s = clientFor(sentinel);
    const e = await startExporter(['--sentinel', `127.0.0.1:${sentinel.port}`, '--master-name', 'mymaster', '--no-keys', '--discover-interval', '1s']);
    const role = async (port: number) => (await e.metrics()).get(series('redis_ops_node_info', { node: `127.0.0.1:${port}`, role: 'master', version: '7.0.15', mode: 'standalone' }));
    try {
      expect(await role(master.port)).toBe(1);
      await until(async () => Number((await s.call('SENTINEL', 'REPLICAS', 'mymaster') as unknown[]).length) === 1, 'Sentinel to know the replica');
      await until(async () => {
        await s.call('SENTINEL', 'FAILOVER', 'mymaster').catch(() => undefined); // refused until the replica is ready for it
        return /role:master/.test(await r.info('replication'));
      }, 'the failover', 60_000);
      await until(async () => (await role(replica.port)) === 1, 'the exporter to follow the new master', 60_000);
      await r.rpush('tts_queue', '{"request_id":"c"}');
      await until(async () => (await e.metrics()).get(series('redis_ops_queue_waiting', { queue: 'tts_queue', system: 'homegrown', db: 0 })) === 3, 'the queue read on the new master');
    } finally {
      const { code } = await e.stop();
      expect(code).toBe(0);
      for (const c of [m, r, s]) c.disconnect();
      await sentinel.stop();
      await Promise.all([replica.stop(), master.stop()]);
    }
  }, 120_000);
});
