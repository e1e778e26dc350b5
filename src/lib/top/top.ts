import type { Target } from '../connect/target.js';
import { closeNodes, discoverNodes, splitAddress, type DeploymentNode } from '../connect/nodes.js';
import { num, parseInfo, replicasOf, type InfoFields } from '../info.js';
import { countQueues } from '../queues/count.js';
import { findQueues, type FindOptions } from '../queues/find.js';
import type { QueueInfo, QueueRef } from '../queues/model.js';
import { adapterOf } from '../queues/systems/index.js';
import { readSlowlog, type SlowlogEntry } from '../slowlog/slowlog.js';

/**
 * What the deployment is doing now: one INFO per node per sample, the
 * queues' counts and where their newest job moved, the newest slow
 * commands. Rates come from two samples (counter differences over the time
 * between them), never from the server's lifetime averages.
 */
export interface NodeRow {
  node: string;
  role: 'master' | 'replica';
  opsPerSec: number | null;
  /** Keyspace hits / (hits + misses) between the samples; null with no lookups. */
  hitRatio: number | null;
  usedBytes: number | null;
  maxBytes: number | null;
  fragmentation: number | null;
  clients: number | null;
  blockedClients: number | null;
  evictedPerSec: number | null;
  expiredPerSec: number | null;
  netInBytesPerSec: number | null;
  netOutBytesPerSec: number | null;
  /** CPU seconds (user + sys) used per second: 1.0 is one core busy. */
  cpuPerSec: number | null;
  /** Replicas: bytes behind the master's offset (from the master's own INFO). */
  replLagBytes: number | null;
  error: string | null;
}

export interface QueueRow {
  system: string;
  name: string;
  db: number;
  waiting: number;
  active: number | null;
  dead: number | null;
  /** Jobs pushed and jobs taken between the samples (their rates: per second). */
  arrived: number | null;
  departed: number | null;
  inPerSec: number | null;
  outPerSec: number | null;
  /** false when the newest job seen was taken meanwhile: the rates are then lower bounds. */
  ratesExact: boolean;
}

export interface TopSnapshot {
  at: string;
  intervalSec: number;
  totals: { nodes: number; opsPerSec: number; usedBytes: number; clients: number; netInBytesPerSec: number; netOutBytesPerSec: number };
  nodes: NodeRow[];
  queues: QueueRow[];
  slowlog: Omit<SlowlogEntry, 'self'>[];
}

interface NodeSample { node: string; role: 'master' | 'replica'; info: InfoFields | null; error: string | null }
interface QueueSample { info: QueueInfo; list: { len: number; newest: Buffer | null; arrived: number | null; exact: boolean } | null }

export interface Sample {
  atMs: number;
  nodes: NodeSample[];
  queues: QueueSample[];
  slowlog: SlowlogEntry[];
}

export interface TopOptions {
  /** null: no queues pane. */
  queues: FindOptions | null;
  /** Newest slowlog entries to keep (0: none). */
  slowlog: number;
}

/** A deployment being watched: its nodes and queues found once, sampled on demand. */
export class TopSampler {
  private constructor(
    private readonly target: Target, private readonly nodes: DeploymentNode[],
    private readonly queueDbs: { t: Target; refs: QueueRef[] }[], private readonly opts: TopOptions,
  ) {}

  static async open(target: Target, opts: TopOptions): Promise<TopSampler> {
    const nodes = await discoverNodes(target);
    try {
      nodes.push(...(await standaloneReplicas(target, nodes)));
      const queueDbs = opts.queues ? await findQueues(target, opts.queues, async (t, refs) => ({ t: t === target ? t : await target.forDb(t.db), refs })) : [];
      return new TopSampler(target, nodes, queueDbs, opts);
    } catch (e) {
      closeNodes(nodes);
      throw e;
    }
  }

  /** One sample; `prev` gives each queue's newest job to look for. */
  async sample(prev: Sample | null): Promise<Sample> {
    const atMs = Date.now();
    const [nodes, queues, slowlog] = await Promise.all([this.sampleNodes(), this.sampleQueues(prev, atMs), this.sampleSlowlog()]);
    return { atMs, nodes, queues, slowlog };
  }

  private sampleNodes(): Promise<NodeSample[]> {
    return Promise.all(this.nodes.map(async (n): Promise<NodeSample> => {
      if (!n.client) return { node: n.address, role: n.role, info: null, error: n.error?.message.split('\n')[0] ?? 'unreachable' };
      try {
        return { node: n.address, role: n.role, info: parseInfo(String(await n.client.call('INFO'))), error: null };
      } catch (e) {
        return { node: n.address, role: n.role, info: null, error: this.target.failAt(n.address, e).message.split('\n')[0]! };
      }
    }));
  }

  private async sampleQueues(prev: Sample | null, now: number): Promise<QueueSample[]> {
    const out: QueueSample[] = [];
    for (const { t, refs } of this.queueDbs) {
      const infos = await countQueues(t, refs, now);
      const lists = await Promise.all(refs.map(async (ref, i) => {
        const { key, newest } = adapterOf(ref).waitingList(ref);
        const before = prev?.queues.find((q) => q.info.system === ref.system && q.info.name === ref.name && q.info.db === ref.db)?.list;
        const [len, head] = await Promise.all([t.client.llen(key), t.client.lindexBuffer(key, newest === 'head' ? 0 : -1)]);
        let arrived: number | null = null;
        let exact = true;
        if (before) {
          if (before.newest === null) {
            // Empty before: everything there now arrived (and some may have come and gone).
            arrived = len;
            exact = false;
          } else {
            // Where the newest job we saw is now: as many jobs were pushed in front of it.
            const pos = await lpos(t, key, before.newest, newest);
            if (pos === null) {
              arrived = len;
              exact = false;
            } else arrived = newest === 'head' ? pos : len - 1 - pos;
          }
        }
        return { info: infos[i]!, list: { len, newest: head, arrived, exact } };
      }));
      out.push(...lists);
    }
    return out;
  }

  private async sampleSlowlog(): Promise<SlowlogEntry[]> {
    if (!this.opts.slowlog) return [];
    const per = await Promise.all(this.nodes.filter((n) => n.client).map((n) => readSlowlog(n.client!, n.address, this.opts.slowlog + 10).catch(() => [])));
    return per.flat().filter((e) => !e.self).sort((a, b) => b.time - a.time || b.id - a.id).slice(0, this.opts.slowlog);
  }

  close(): void {
    closeNodes(this.nodes);
    for (const { t } of this.queueDbs) if (t !== this.target) void t.close();
  }
}

/**
 * A standalone primary's replicas (from its INFO replication), so that one
 * server's view shows them and their lag too; a cluster's and a Sentinel
 * deployment's are found already.
 */
async function standaloneReplicas(target: Target, nodes: DeploymentNode[]): Promise<DeploymentNode[]> {
  if (target.mode !== 'standalone' || nodes[0]?.role !== 'master' || !nodes[0].client) return [];
  const info = parseInfo(String(await nodes[0].client.call('INFO', 'replication')));
  return Promise.all(replicasOf(info).map(async (r): Promise<DeploymentNode> => {
    const [host, port] = splitAddress(r.address);
    try {
      return { address: r.address, role: 'replica', client: await target.connectNode(host, port), error: null, flags: [], owned: true };
    } catch (e) {
      return { address: r.address, role: 'replica', client: null, error: e as Error, flags: [], owned: false };
    }
  }));
}

/** LPOS from the end the job was pushed at (RANK -1 from the tail): null when it is gone, or before Redis 6.0.6. */
async function lpos(t: Target, key: string, element: Buffer, newest: 'head' | 'tail'): Promise<number | null> {
  try {
    const r = await t.client.call('LPOS', key, element, 'RANK', newest === 'head' ? '1' : '-1', 'MAXLEN', '1000000');
    return r === null ? null : Number(r);
  } catch {
    return null;
  }
}

/** The view between two samples. */
export function snapshot(prev: Sample, next: Sample): TopSnapshot {
  const dt = Math.max(0.001, (next.atMs - prev.atMs) / 1000);
  const rate = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, (b - a) / dt));
  const nodes = next.nodes.map((n): NodeRow => {
    const p = prev.nodes.find((x) => x.node === n.node)?.info ?? null;
    const i = n.info;
    const d = (field: string) => (p && i ? rate(num(p, field), num(i, field)) : null);
    const hits = p && i ? (num(i, 'keyspace_hits') ?? 0) - (num(p, 'keyspace_hits') ?? 0) : null;
    const misses = p && i ? (num(i, 'keyspace_misses') ?? 0) - (num(p, 'keyspace_misses') ?? 0) : null;
    const cpu = (x: InfoFields) => (num(x, 'used_cpu_user') ?? 0) + (num(x, 'used_cpu_sys') ?? 0);
    return {
      node: n.node, role: n.role,
      opsPerSec: round(d('total_commands_processed')),
      hitRatio: hits !== null && misses !== null && hits + misses > 0 ? Math.round((hits / (hits + misses)) * 1000) / 1000 : null,
      usedBytes: i ? num(i, 'used_memory') : null,
      maxBytes: i ? num(i, 'maxmemory') : null,
      fragmentation: i ? num(i, 'mem_fragmentation_ratio') : null,
      clients: i ? num(i, 'connected_clients') : null,
      blockedClients: i ? num(i, 'blocked_clients') : null,
      evictedPerSec: round(d('evicted_keys')),
      expiredPerSec: round(d('expired_keys')),
      netInBytesPerSec: round(d('total_net_input_bytes')),
      netOutBytesPerSec: round(d('total_net_output_bytes')),
      cpuPerSec: p && i ? Math.round(rate(cpu(p), cpu(i))! * 100) / 100 : null,
      replLagBytes: n.role === 'replica' ? lagOf(n.node, next.nodes) : null,
      error: n.error,
    };
  });
  const queues = next.queues.map((q): QueueRow => {
    const before = prev.queues.find((x) => x.info.system === q.info.system && x.info.name === q.info.name && x.info.db === q.info.db)?.list;
    const arrived = q.list?.arrived ?? null;
    const departed = arrived !== null && before && q.list ? Math.max(0, arrived - (q.list.len - before.len)) : null;
    return {
      system: q.info.system, name: q.info.name, db: q.info.db, waiting: q.info.waiting, active: q.info.active, dead: q.info.dead,
      arrived, departed,
      inPerSec: arrived === null ? null : round(arrived / dt), outPerSec: departed === null ? null : round(departed / dt),
      ratesExact: Boolean(q.list?.exact && arrived !== null),
    };
  });
  const live = nodes.filter((n) => !n.error);
  const sum = (f: (n: NodeRow) => number | null) => live.reduce((a, n) => a + (f(n) ?? 0), 0);
  return {
    at: new Date(next.atMs).toISOString(), intervalSec: Math.round(dt * 1000) / 1000,
    totals: {
      nodes: nodes.length, opsPerSec: round(sum((n) => n.opsPerSec))!, usedBytes: sum((n) => (n.role === 'master' ? n.usedBytes : 0)),
      clients: sum((n) => n.clients), netInBytesPerSec: round(sum((n) => n.netInBytesPerSec))!, netOutBytesPerSec: round(sum((n) => n.netOutBytesPerSec))!,
    },
    nodes, queues,
    slowlog: next.slowlog.map(({ self: _self, ...e }) => e),
  };
}

/** A replica's lag: its master's offset minus the offset the master last heard from it. */
function lagOf(replica: string, nodes: NodeSample[]): number | null {
  for (const n of nodes) {
    if (n.role !== 'master' || !n.info) continue;
    const line = replicasOf(n.info).find((r) => r.address === replica);
    const master = num(n.info, 'master_repl_offset');
    if (line && master !== null) return Math.max(0, master - line.offset);
  }
  return null;
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
