import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionError } from '../../errors.js';
import { loadDriver } from '../connect/driver.js';

/**
 * Throwaway redis-server processes on free local ports, without persistence:
 * the sandbox command and the test suite both start servers this way.
 */
export interface LocalServer {
  port: number;
  host: string;
  url: string;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function redisServerBinary(): string {
  const bin = process.env.REDIS_SERVER_BIN || 'redis-server';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new ConnectionError(`redis-server not found (looked for "${bin}"): install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_SERVER_BIN`);
  }
  return bin;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  port?: number;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
  /** Serve TLS only, on `port`, with these PEM files. */
  tls?: { cert: string; key: string; ca: string; authClients: boolean };
}

export async function startServer(opts: StartOptions = {}): Promise<LocalServer> {
  const bin = redisServerBinary();
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'redis-ops-'));
    const listen = opts.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key,
        '--tls-ca-cert-file', opts.tls.ca, '--tls-auth-clients', opts.tls.authClients ? 'yes' : 'no']
      : ['--port', String(port)];
    const child = spawn(bin, [
      ...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--daemonize', 'no', '--loglevel', 'warning', ...(opts.args ?? []),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout?.on('data', (d) => { log += d; });
    child.stderr?.on('data', (d) => { log += d; });
    const ok = await waitForPort(port, child, 5000);
    if (ok) {
      const server: LocalServer = {
        port, host: '127.0.0.1', url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, dir, process: child,
        stop: () => stopProcess(child).then(() => rmSync(dir, { recursive: true, force: true })),
      };
      return server;
    }
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
    // Another process may have taken the port between freePort() and bind.
    if (opts.port !== undefined || attempt >= 3) throw new ConnectionError(`redis-server did not start on port ${port}: ${log.trim().split('\n').pop() ?? ''}`);
  }
}

/** A Sentinel (redis-server --sentinel) monitoring one master under `name`. */
export async function startSentinel(master: { host: string; port: number }, name = 'mymaster'): Promise<LocalServer> {
  const bin = redisServerBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-ops-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  // Sentinel rewrites its config file, so it lives in our temp dir.
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${name} ${master.host} ${master.port} 1`,
    `sentinel down-after-milliseconds ${name} 2000`, `sentinel failover-timeout ${name} 10000`, '',
  ].join('\n'));
  const child = spawn(bin, [conf, '--sentinel'], { stdio: 'ignore' });
  if (!(await waitForPort(port, child, 5000))) {
    await stopProcess(child);
    throw new ConnectionError(`redis-server --sentinel did not start on port ${port}`);
  }
  return {
    port, host: '127.0.0.1', url: `redis://127.0.0.1:${port}`, dir, process: child,
    stop: () => stopProcess(child).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}

export interface LocalCluster {
  nodes: LocalServer[];
  url: string;
  stop(): Promise<void>;
}

/** Three masters with the 16384 slots split between them, and cluster_state:ok. */
export async function startCluster(masters = 3, args: string[] = []): Promise<LocalCluster> {
  const nodes: LocalServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startServer({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', ...args] }));
    }
    const { Redis } = await loadDriver();
    const clients = nodes.map((n) => new Redis({ port: n.port, host: n.host, lazyConnect: true }));
    await Promise.all(clients.map((c) => c.connect()));
    const per = Math.floor(16384 / masters);
    for (let i = 0; i < masters; i++) {
      const from = i * per;
      const to = i === masters - 1 ? 16383 : from + per - 1;
      const slots = Array.from({ length: to - from + 1 }, (_, k) => from + k);
      await clients[i]!.call('CLUSTER', 'ADDSLOTS', ...slots);
    }
    for (let i = 1; i < masters; i++) await clients[i]!.call('CLUSTER', 'MEET', '127.0.0.1', nodes[0]!.port);
    const deadline = Date.now() + 15000;
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
      const known = await Promise.all(clients.map((c) => c.call('CLUSTER', 'NODES') as Promise<string>));
      if (infos.every((t) => t.includes('cluster_state:ok')) && known.every((t) => t.trim().split('\n').length === masters)) break;
      if (Date.now() > deadline) throw new ConnectionError('cluster did not reach cluster_state:ok within 15s');
      await new Promise((r) => setTimeout(r, 100));
    }
    clients.forEach((c) => c.disconnect());
    return {
      nodes,
      url: nodes[0]!.url,
      stop: async () => { await Promise.all(nodes.map((n) => n.stop())); },
    };
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.end(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}
