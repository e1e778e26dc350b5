import type { Redis } from 'ioredis';
import { loadDriver } from './driver.js';
import type { Target } from './target.js';

/**
 * Every node of a deployment, for reports that look at each one: the
 * standalone server; a Sentinel master and its replicas; every cluster node,
 * masters and replicas, including those that cannot be reached.
 */
export interface DeploymentNode {
  address: string;
  role: 'master' | 'replica';
  /** null when the node could not be reached; `error` says why. */
  client: Redis | null;
  error: Error | null;
  /** Cluster flags (fail, pfail, …) as another node sees this one. */
  flags: string[];
  /** Our own connection, to be closed by closeNodes(). */
  owned: boolean;
}

export async function discoverNodes(target: Target): Promise<DeploymentNode[]> {
  if (target.mode === 'cluster') return clusterNodes(target);
  const primary = target.masters()[0];
  const self: DeploymentNode = { address: primary!.address, role: 'master', client: primary!.client, error: null, flags: [], owned: false };
  if (target.mode === 'sentinel') return [self, ...(await sentinelReplicas(target))];
  const role = await primary!.client.call('ROLE').then((r) => String((r as unknown[])[0]), () => 'master');
  return [{ ...self, role: role === 'slave' ? 'replica' : 'master' }];
}

async function clusterNodes(target: Target): Promise<DeploymentNode[]> {
  let text = '';
  let lastError: unknown = null;
  for (const m of target.masters()) {
    try {
      text = String(await m.client.call('CLUSTER', 'NODES'));
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!text) throw target.fail(lastError);
  const entries = parseClusterNodes(text);
  return Promise.all(entries.map(async (n) => {
    const [host, port] = splitAddress(n.address);
    try {
      return { address: n.address, role: n.role, client: await target.connectNode(host, port), error: null, flags: n.flags, owned: true };
    } catch (e) {
      return { address: n.address, role: n.role, client: null, error: e as Error, flags: n.flags, owned: false };
    }
  }));
}

export function parseClusterNodes(text: string): { id: string; address: string; role: 'master' | 'replica'; flags: string[] }[] {
  return text.trim().split('\n').filter(Boolean).map((line) => {
    const [id = '', addr = '', flagText = ''] = line.split(' ');
    // ip:port@cport[,hostname]
    const address = addr.split('@')[0] ?? addr;
    const flags = flagText.split(',').filter((f) => f !== 'myself');
    return { id, address, role: flags.includes('slave') ? 'replica' : 'master', flags };
  });
}

async function sentinelReplicas(target: Target): Promise<DeploymentNode[]> {
  const { sentinels, masterName } = target.spec;
  for (const s of sentinels) {
    let sentinel: Redis | null = null;
    try {
      const { Redis: IORedis } = await loadDriver();
      sentinel = new IORedis({ host: s.host, port: s.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: target.spec.timeoutMs, enableReadyCheck: false, disableClientInfo: true, connectionName: 'redis-ops' });
      sentinel.on('error', () => {});
      await sentinel.connect();
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', masterName!)) as string[][];
      sentinel.disconnect();
      return Promise.all(replicas.map(async (flat) => {
        const info = pairs(flat);
        const address = `${info.ip}:${info.port}`;
        const flags = (info.flags ?? '').split(',').filter(Boolean);
        try {
          return { address, role: 'replica' as const, client: await target.connectNode(info.ip!, Number(info.port)), error: null, flags, owned: true };
        } catch (e) {
          return { address, role: 'replica' as const, client: null, error: e as Error, flags, owned: false };
        }
      }));
    } catch {
      sentinel?.disconnect();
    }
  }
  return [];
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

export function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(i + 1))];
}

export function closeNodes(nodes: DeploymentNode[]): void {
  for (const n of nodes) if (n.owned) n.client?.disconnect();
}
