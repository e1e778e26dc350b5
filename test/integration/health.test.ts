import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort } from '../../src/lib/sandbox/server.js';
import { clientFor, startCluster, startSentinel, startServer, type LocalCluster, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'redis-ops-health-'));
let server: LocalServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

async function waitFor(cond: () => Promise<boolean>, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

describe('health on a standalone server', () => {
  it('a healthy server exits 0 with every check ok', async () => {
    const r = await runCli(['health', '--url', server.url, '--json']);
    expect(r.code, r.stdout).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe('ok');
    expect(j.checks.every((c: { status: string }) => c.status === 'ok')).toBe(true);
    expect(j.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['ping', 'memory', 'persistence', 'clients', 'replicas']));
    expect(j.checks[0]).toMatchObject({ node: `127.0.0.1:${server.port}`, name: 'ping', unit: 'ms' });
  });

  it('maxmemory just above used memory is CRITICAL, exit 2', async () => {
    const s = await startServer();
    const c = clientFor(s);
    const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
    await c.config('SET', 'maxmemory', String(Math.ceil(used * 1.02)));
    const r = await runCli(['health', '--url', s.url, '--json']);
    c.disconnect();
    await s.stop();
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe('crit');
    expect(j.checks.find((x: { name: string }) => x.name === 'memory')).toMatchObject({ status: 'crit', threshold: { warn: 70, crit: 90 } });
  });

  it('an unreachable server is UNKNOWN, exit 3, in every format', async () => {
    const port = await freePort();
    const json = await runCli(['health', '--port', String(port), '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'unknown', error: expect.stringContaining(`127.0.0.1:${port}`) });
    const nagios = await runCli(['health', '--port', String(port), '--format', 'nagios']);
    expect(nagios.code).toBe(3);
    expect(nagios.stdout).toMatch(/^REDIS UNKNOWN - cannot connect to 127\.0\.0\.1:\d+/);
  });

  it('bad arguments are UNKNOWN (3) too', async () => {
    expect((await runCli(['health', '--url', server.url, '--threshold', 'bogus'])).code).toBe(3);
    expect((await runCli(['health', '--url', server.url, '--no-such-flag'])).code).toBe(3);
  });

  it('--threshold, --only, --skip and --fail-on', async () => {
    const warn = await runCli(['health', '--url', server.url, '--json', '--threshold', 'clients.warn=0', '--only', 'clients,ping']);
    expect(warn.code).toBe(1);
    const j = JSON.parse(warn.stdout);
    expect(j.checks.map((c: { name: string }) => c.name)).toEqual(['ping', 'clients']);
    expect(j.status).toBe('warn');
    const ci = await runCli(['health', '--url', server.url, '--threshold', 'clients.warn=0', '--fail-on', 'crit']);
    expect(ci.code).toBe(0);
    const skipped = JSON.parse((await runCli(['health', '--url', server.url, '--json', '--skip', 'ping'])).stdout);
    expect(skipped.checks.some((c: { name: string }) => c.name === 'ping')).toBe(false);
  });

  it('--watch checks again every interval until Ctrl-C (NDJSON off a terminal)', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const child = spawn(process.execPath, [BIN, 'health', '--url', server.url, '--json', '--watch', '1s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (out.split('\n').filter(Boolean).length >= 3) { clearInterval(t); resolve(); } }, 20); });
    const code = await new Promise<number | null>((resolve) => { child.on('exit', (c) => resolve(c)); child.kill('SIGINT'); });
    expect(code).toBe(0);
    const reports = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.every((r) => r.status === 'ok')).toBe(true);
  });

  it('the Nagios line has the documented shape', async () => {
    const r = await runCli(['health', '--url', server.url, '--format', 'nagios']);
    expect(r.code).toBe(0);
    const line = r.stdout.trimEnd();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/^REDIS OK - \d+ checks ok on 1 node\(s\) \| /);
    const perf = line.split(' | ')[1].split(' ');
    for (const p of perf) expect(p).toMatch(/^'[^']+'=-?[\d.]+(ms|s|%|c)?(;[\d.]*){0,4}$/);
    expect(perf).toContain("'rejectedConnections'=0c;;1;0");
  });

  it('--prom-file writes Prometheus text that parses line by line, replaced atomically', async () => {
    const file = join(dir, 'redis.prom');
    const r = await runCli(['health', '--url', server.url, '--prom-file', file, '-q']);
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)*\})? -?[\d.]+(e[-+]?\d+)?)$/);
    }
    expect(text).toContain(`redis_ops_health_status{target="127.0.0.1:${server.port}"} 0`);
    expect(text).toMatch(/redis_ops_health_check_status\{check="memory",node="127\.0\.0\.1:\d+"\} 0/);
    // Written under a temporary name and renamed: nothing else is left in the directory.
    expect(readdirSync(dir)).toEqual(['redis.prom']);
  });

  it('--slowlog-state reports only new slowlog entries', async () => {
    const c = clientFor(server);
    await c.config('SET', 'slowlog-log-slower-than', '0');
    const state = join(dir, 'health-slowlog.json');
    const first = JSON.parse((await runCli(['health', '--url', server.url, '--json', '--slowlog-state', state, '--only', 'slowlog'])).stdout);
    expect(first.checks[0].name).toBe('slowlog');
    const second = JSON.parse((await runCli(['health', '--url', server.url, '--json', '--slowlog-state', state, '--only', 'slowlog'])).stdout);
    // Only our own connections ran commands in between, and they are not counted.
    expect(second.checks[0]).toMatchObject({ name: 'slowlog', value: 0, status: 'ok' });
    for (let i = 0; i < 12; i++) await c.set(`k${i}`, 'v');
    const third = JSON.parse((await runCli(['health', '--url', server.url, '--json', '--slowlog-state', state, '--only', 'slowlog'])).stdout);
    expect(third.checks[0].value).toBeGreaterThanOrEqual(12);
    expect(third.checks[0].status).toBe('warn');
    await c.config('SET', 'slowlog-log-slower-than', '10000');
    c.disconnect();
  });
});

describe('health on replicated deployments', () => {
  it('a replica whose primary is stopped reports the link down, exit 2', async () => {
    const primary = await startServer();
    const replica = await startServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const rc = clientFor(replica);
    await waitFor(async () => /master_link_status:up/.test(await rc.info('replication')));
    const healthy = await runCli(['health', '--url', replica.url, '--json']);
    expect(healthy.code).toBe(0);
    expect(JSON.parse(healthy.stdout).checks.find((c: { name: string }) => c.name === 'masterLink')).toMatchObject({ status: 'ok' });
    await primary.stop();
    await waitFor(async () => /master_link_status:down/.test(await rc.info('replication')));
    // A down link is graded by how long it has been down (issue 14): a blip of a
    // second is ok by default; with a zero threshold it is CRITICAL at once.
    const blip = await runCli(['health', '--url', replica.url, '--json', '--only', 'masterLink']);
    const link = JSON.parse(blip.stdout).checks[0];
    expect(link).toMatchObject({ name: 'masterLink', unit: 's' });
    expect(link.message).toMatch(/^link to master 127\.0\.0\.1:\d+ is down for \d+ s$/);
    const r = await runCli(['health', '--url', replica.url, '--json', '--threshold', 'masterLink.crit=0']);
    rc.disconnect();
    await replica.stop();
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === 'masterLink')).toMatchObject({ status: 'crit' });
  });

  it('a replica in its initial sync is WARNING with its progress, not CRITICAL', async () => {
    // The master waits 5 s before a diskless transfer: the replica has never been connected.
    const primary = await startServer({ args: ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '30'] });
    const replica = await startServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const rc = clientFor(replica);
    try {
      await waitFor(async () => /master_link_down_since_seconds:-1/.test(await rc.info('replication')));
      const r = await runCli(['health', '--url', replica.url, '--json', '--only', 'masterLink']);
      expect(r.code).toBe(1);
      const link = JSON.parse(r.stdout).checks[0];
      expect(link).toMatchObject({ name: 'masterLink', status: 'warn', value: 'sync' });
      expect(link.message).toMatch(/^initial sync from master 127\.0\.0\.1:\d+ /);
    } finally {
      rc.disconnect();
      await replica.stop();
      await primary.stop();
    }
  });

  it('a Sentinel deployment is discovered and every node checked', async () => {
    const primary = await startServer();
    const replica = await startServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const rc = clientFor(replica);
    await waitFor(async () => /master_link_status:up/.test(await rc.info('replication')));
    rc.disconnect();
    const sentinel = await startSentinel(primary, 'mymaster');
    try {
      // Sentinel learns about replicas from the master's INFO (every 10 s at first contact: wait for it).
      const s = new Redis(sentinel.port, '127.0.0.1');
      await waitFor(async () => ((await s.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).length === 1, 20000);
      s.disconnect();
      const r = await runCli(['health', '--sentinel', `127.0.0.1:${sentinel.port}`, '--master-name', 'mymaster', '--json', '--expect-replicas', '1']);
      expect(r.code, r.stdout).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.mode).toBe('sentinel');
      expect(j.nodes.map((n: { node: string; role: string }) => `${n.role}@${n.node}`).sort()).toEqual([`master@127.0.0.1:${primary.port}`, `replica@127.0.0.1:${replica.port}`].sort());
      expect(j.checks.find((c: { name: string }) => c.name === 'replicas')).toMatchObject({ status: 'ok', value: 1 });
      expect(j.checks.find((c: { name: string; node: string }) => c.name === 'masterLink')).toMatchObject({ node: `127.0.0.1:${replica.port}`, status: 'ok' });
    } finally {
      await sentinel.stop();
      await replica.stop();
      await primary.stop();
    }
  }, 40000);
});

describe('health on a cluster', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startCluster(3);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('checks every node, then reports a stopped node and the cluster state', async () => {
    const ok = await runCli(['health', '--url', cluster.url, '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    const j = JSON.parse(ok.stdout);
    expect(j.mode).toBe('cluster');
    expect(j.nodes).toHaveLength(3);
    expect(j.checks.filter((c: { name: string }) => c.name === 'cluster').every((c: { status: string }) => c.status === 'ok')).toBe(true);

    await cluster.nodes[2].stop();
    const alive = clientFor(cluster.nodes[0]);
    await waitFor(async () => /cluster_state:fail/.test(String(await alive.call('CLUSTER', 'INFO'))));
    alive.disconnect();
    const r = await runCli(['health', '--url', cluster.url, '--json', '--timeout', '2s']);
    expect(r.code).toBe(2);
    const k = JSON.parse(r.stdout);
    expect(k.status).toBe('crit');
    expect(k.checks.find((c: { name: string; node: string }) => c.node === `127.0.0.1:${cluster.nodes[2].port}`)).toMatchObject({ name: 'ping', status: 'crit' });
    expect(k.checks.find((c: { name: string }) => c.name === 'cluster')).toMatchObject({ status: 'crit', value: 'fail' });
  }, 40000);
});
