/**
 * `clients` and `clients kill` (issue 17) against real servers and real
 * connections: a named pool, a replica's link, a 3-master cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, Cluster } from 'ioredis';
import { clientFor, startCluster, startServer, type LocalCluster, type LocalServer } from '../helpers/redis.js';
import { runCli, until } from '../helpers/cli.js';
import { parseClientLine } from '../../src/lib/clients/clients.js';

let server: LocalServer;
let replica: LocalServer;
let admin: Redis;
let replicaAdmin: Redis;
const pool: Redis[] = [];

// No reconnecting: a killed connection must stay closed for the counts to be exact.
const named = (name: string, port: number) => new Redis({ port, host: '127.0.0.1', connectionName: name, maxRetriesPerRequest: 1, retryStrategy: () => null }).on('error', () => {});

beforeAll(async () => {
  server = await startServer();
  admin = clientFor(server);
  replica = await startServer({ args: ['--replicaof', '127.0.0.1', String(server.port)] });
  replicaAdmin = clientFor(replica);
  await until(async () => /master_link_status:up/.test(await replicaAdmin.info('replication')), 'replica linked');
  for (let i = 0; i < 20; i++) pool.push(named('pool-a', server.port));
  await Promise.all(pool.map((c) => c.ping()));
});
afterAll(async () => {
  for (const c of pool) c.disconnect();
  admin.disconnect();
  replicaAdmin.disconnect();
  await replica.stop();
  await server.stop();
});

describe('clients', () => {
  it('parses a CLIENT LIST line: flags, memory, replication links and our own connections', () => {
    const line = 'id=7 addr=10.0.0.5:51234 laddr=127.0.0.1:6379 fd=8 name=redis-ops:clients age=30 idle=12 flags=S db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=2048 tot-mem=22400 events=r cmd=replconf user=default redir=-1 resp=2';
    expect(parseClientLine(line, 'n:1')).toEqual({
      node: 'n:1', id: '7', addr: '10.0.0.5:51234', host: '10.0.0.5', name: 'redis-ops:clients', user: 'default', db: 0, ageSec: 30, idleSec: 12,
      flags: 'S', cmd: 'replconf', totMemBytes: 22400, outputBytes: 2048, blocked: false, replication: true, ours: true,
    });
  });

  it('groups a pool of 20 connections under its one name, by host and by user; --json has every client', async () => {
    const r = await runCli(['clients', '--url', server.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { nodes: { node: string; clients: number }[]; clients: { name: string; replication: boolean }[]; groups: { by: string; value: string; count: number; commands: { cmd: string }[] }[] };
    expect(doc.nodes).toEqual([{ node: `127.0.0.1:${server.port}`, role: 'master', clients: doc.clients.length, error: null }]);
    const pa = doc.groups.find((g) => g.by === 'name' && g.value === 'pool-a')!;
    expect(pa.count).toBe(20);
    expect(pa.commands).toEqual([{ cmd: 'ping', count: 20 }]);
    // The replica's link is listed, and marked.
    expect(doc.clients.filter((c) => c.replication)).toHaveLength(1);
    expect(doc.groups.find((g) => g.by === 'user' && g.value === 'default')!.count).toBe(doc.clients.length);
    const text = await runCli(['clients', '--url', server.url, '--by', 'name']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^pool-a +20 /m);
  });

  it('flags one host holding most connections, and --fail-on-offenders exits 1 for it', async () => {
    const r = await runCli(['clients', '--url', server.url, '--json', '--host-share', '50', '--fail-on-offenders']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { offenders: { kind: string; what: string }[] };
    expect(doc.offenders.filter((o) => o.kind === 'host-share').map((o) => o.what)).toEqual(['127.0.0.1']);
    const ok = await runCli(['clients', '--url', server.url, '--json', '--host-share', '100', '--fail-on-offenders']);
    expect(ok.code).toBe(0);
  });

  it('kill --idle-over closes exactly the idle connections: not the busy ones, not the replica link, not its own', async () => {
    const idle = [named('idle-b', server.port), named('idle-b', server.port), named('idle-b', server.port)];
    await Promise.all(idle.map((c) => c.ping()));
    const busy = [named('busy-c', server.port), named('busy-c', server.port)];
    let stop = false;
    // The busy ones keep talking while the idle ones age past the threshold.
    const talking = Promise.all(busy.map(async (c) => { while (!stop) await c.ping(); }));
    try {
      await until(async () => {
        const list = String(await admin.call('CLIENT', 'LIST')).split('\n').map((l) => parseClientLine(l, 'x')).filter((c) => c?.name === 'idle-b');
        return list.length === 3 && list.every((c) => c!.idleSec >= 4);
      }, 'idle connections 4 s idle');
      // The pool from beforeAll is idle too: pick the idle ones by name.
      const dry = await runCli(['clients', 'kill', '--url', server.url, '--idle-over', '3s', '--name', 'idle-b', '--dry-run', '--json']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, matched: 3, killed: 0 });
      expect(String(await admin.call('CLIENT', 'LIST')).match(/name=idle-b/g)).toHaveLength(3);

      const refused = await runCli(['clients', 'kill', '--url', server.url, '--idle-over', '3s']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--yes/);

      const r = await runCli(['clients', 'kill', '--url', server.url, '--idle-over', '3s', '--yes', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { killed: number; clients: { name: string; result: string }[] };
      // Exactly the idle ones: the 3 idle-b and the 20 of the pool; the busy pair, the replica's link and our own stay.
      expect(doc.clients.map((c) => c.name).sort()).toEqual([...Array(3).fill('idle-b'), ...Array(20).fill('pool-a')].sort());
      expect(doc.killed).toBe(23);
      const after = String(await admin.call('CLIENT', 'LIST'));
      expect(after).not.toMatch(/name=idle-b|name=pool-a/);
      expect(after.match(/name=busy-c/g)).toHaveLength(2);
      expect(/master_link_status:up/.test(await replicaAdmin.info('replication'))).toBe(true);
    } finally {
      stop = true;
      await talking.catch(() => undefined);
      for (const c of [...idle, ...busy]) c.disconnect();
    }
  });

  it('needs a filter, and a bad size or --by is a usage error', async () => {
    expect((await runCli(['clients', 'kill', '--url', server.url, '--yes'])).stderr).toMatch(/at least one of --idle-over, --name, --addr, --client-user/);
    const bad = await runCli(['clients', '--url', server.url, '--output-over', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --output-over: "lots" is not a size (examples: 1048576, 512kb, 16mb, 1gb)\n');
    expect((await runCli(['clients', '--url', server.url, '--by', 'port'])).code).toBe(2);
  });
});

describe('pointed at a replica', () => {
  it('clients lists the replica\'s connections with its link to the primary marked, and kill never closes that link', async () => {
    const r = await runCli(['clients', '--url', replica.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { nodes: { node: string; role: string }[]; clients: { replication: boolean; flags: string }[] };
    expect(doc.nodes).toMatchObject([{ node: `127.0.0.1:${replica.port}`, role: 'replica' }]);
    expect(doc.clients.filter((c) => c.replication).map((c) => c.flags)).toEqual(['M']);
    // Every connection from 127.0.0.1 but ours and the link: the link stays up.
    const k = await runCli(['clients', 'kill', '--url', replica.url, '--addr', '127.0.0.1', '--yes', '--json']);
    expect(k.code, k.stderr).toBe(0);
    expect(JSON.parse(k.stdout).clients.every((c: { name: string }) => !c.name.startsWith('redis-ops'))).toBe(true);
    await until(async () => /master_link_status:up/.test(await replicaAdmin.info('replication').catch(() => '')), 'the link still up');
  });

  it('hotkeys samples the replica: the key the primary is written most shows first', async () => {
    const { spawn } = await import('node:child_process');
    // SETs of one key on the primary reach the replica as replicated commands.
    const bench = spawn('redis-benchmark', ['-p', String(server.port), '-n', '100000000', '-c', '2', '-t', 'set', '-q'], { stdio: 'ignore' });
    try {
      await until(async () => /cmdstat_set:calls=[1-9]\d{3,}/.test(await admin.info('commandstats')), 'writes under way');
      const r = await runCli(['hotkeys', '--url', replica.url, '--duration', '2s', '--yes', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { method: Record<string, string>; keys: { key: string }[]; commands: { command: string }[] };
      expect(doc.method).toEqual({ [`127.0.0.1:${replica.port}`]: 'monitor' });
      expect(doc.keys[0]!.key).toBe('key:__rand_int__');
      expect(doc.commands[0]!.command).toBe('SET');
    } finally {
      bench.kill('SIGKILL');
    }
  });
});

describe('clients on a 3-master cluster', () => {
  let cluster: LocalCluster;
  beforeAll(async () => { cluster = await startCluster(); });
  afterAll(async () => { await cluster.stop(); });

  it('lists every node, and a kill by name closes that client\'s connections on every node', async () => {
    const app = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }], { redisOptions: { connectionName: 'app-x', retryStrategy: () => null }, clusterRetryStrategy: () => null });
    // One key per node: the cluster client then holds a connection to each.
    for (let i = 0; i < 30; i++) await app.set(`k${i}`, 'v');
    try {
      const r = await runCli(['clients', '--url', cluster.url, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { nodes: { node: string; role: string; error: string | null }[]; groups: { by: string; value: string; count: number }[] };
      expect(doc.nodes.map((n) => n.node)).toEqual(cluster.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
      expect(doc.nodes.every((n) => n.role === 'master' && n.error === null)).toBe(true);
      // As many as the nodes themselves list for that name.
      let appConns = 0;
      for (const n of cluster.nodes) {
        const c = clientFor(n);
        appConns += (String(await c.call('CLIENT', 'LIST')).match(/ name=app-x /g) ?? []).length;
        c.disconnect();
      }
      expect(doc.groups.find((g) => g.by === 'name' && g.value === 'app-x')!.count).toBe(appConns);
      const k = await runCli(['clients', 'kill', '--url', cluster.url, '--name', 'app-x', '--yes', '--json']);
      expect(k.code, k.stderr).toBe(0);
      expect(JSON.parse(k.stdout).killed).toBe(appConns);
    } finally {
      app.disconnect();
    }
  });
});
