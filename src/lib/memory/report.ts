import type { Redis } from 'ioredis';
import { closeNodes, discoverNodes } from '../connect/nodes.js';
import type { Target } from '../connect/target.js';
import { keyspace, num, parseInfo, type KeyspaceDb } from '../info.js';

export interface NodeMemory {
  node: string;
  role: string;
  error: string | null;
  usedBytes: number | null;
  rssBytes: number | null;
  peakBytes: number | null;
  datasetBytes: number | null;
  overheadBytes: number | null;
  startupBytes: number | null;
  fragmentationRatio: number | null;
  fragmentationBytes: number | null;
  maxmemoryBytes: number | null;
  maxmemoryPolicy: string | null;
  totalSystemBytes: number | null;
  clientsNormalBytes: number | null;
  clientsReplicaBytes: number | null;
  replicationBacklogBytes: number | null;
  aofBufferBytes: number | null;
  luaBytes: number | null;
  functionsBytes: number | null;
  keyspace: KeyspaceDb[];
  /** MEMORY DOCTOR's advice, as the server words it. */
  doctor: string | null;
}

export async function memoryReport(target: Target): Promise<NodeMemory[]> {
  const nodes = await discoverNodes(target);
  try {
    return await Promise.all(nodes.map(async (n) => {
      if (!n.client) return blank(n.address, n.role, n.error?.message ?? 'unreachable');
      try {
        return await readNode(n.client, n.address, n.role);
      } catch (e) {
        return blank(n.address, n.role, target.failAt(n.address, e).message);
      }
    }));
  } finally {
    closeNodes(nodes);
  }
}

async function readNode(client: Redis, node: string, role: string): Promise<NodeMemory> {
  const p = client.pipeline();
  p.info();
  p.call('MEMORY', 'STATS');
  p.call('MEMORY', 'DOCTOR');
  const [[infoErr, infoText], [statsErr, statsRaw], [doctorErr, doctor]] = (await p.exec()) as [[Error | null, unknown], [Error | null, unknown], [Error | null, unknown]];
  if (infoErr) throw infoErr;
  const i = parseInfo(String(infoText));
  const stats = statsErr ? {} : flatPairs(statsRaw as unknown[]);
  const statNum = (k: string) => (typeof stats[k] === 'number' ? (stats[k] as number) : null);
  return {
    node,
    role: i.role === 'slave' ? 'replica' : role,
    error: null,
    usedBytes: num(i, 'used_memory'),
    rssBytes: num(i, 'used_memory_rss'),
    peakBytes: num(i, 'used_memory_peak'),
    datasetBytes: num(i, 'used_memory_dataset'),
    overheadBytes: num(i, 'used_memory_overhead'),
    startupBytes: num(i, 'used_memory_startup') ?? statNum('startup.allocated'),
    fragmentationRatio: num(i, 'mem_fragmentation_ratio'),
    fragmentationBytes: num(i, 'mem_fragmentation_bytes'),
    maxmemoryBytes: num(i, 'maxmemory'),
    maxmemoryPolicy: i.maxmemory_policy ?? null,
    totalSystemBytes: num(i, 'total_system_memory'),
    clientsNormalBytes: num(i, 'mem_clients_normal') ?? statNum('clients.normal'),
    clientsReplicaBytes: num(i, 'mem_clients_slaves') ?? statNum('clients.slaves'),
    replicationBacklogBytes: statNum('replication.backlog') ?? num(i, 'mem_replication_backlog'),
    aofBufferBytes: statNum('aof.buffer') ?? num(i, 'mem_aof_buffer'),
    luaBytes: num(i, 'used_memory_lua') ?? num(i, 'used_memory_vm_eval'),
    functionsBytes: num(i, 'used_memory_functions'),
    keyspace: keyspace(i),
    doctor: doctorErr ? null : String(doctor),
  };
}

function flatPairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let k = 0; k + 1 < flat.length; k += 2) out[String(flat[k])] = flat[k + 1];
  return out;
}

function blank(node: string, role: string, error: string): NodeMemory {
  return {
    node, role, error, usedBytes: null, rssBytes: null, peakBytes: null, datasetBytes: null, overheadBytes: null, startupBytes: null,
    fragmentationRatio: null, fragmentationBytes: null, maxmemoryBytes: null, maxmemoryPolicy: null, totalSystemBytes: null,
    clientsNormalBytes: null, clientsReplicaBytes: null, replicationBacklogBytes: null, aofBufferBytes: null, luaBytes: null,
    functionsBytes: null, keyspace: [], doctor: null,
  };
}
