import type { Redis } from 'ioredis';
import type { Target } from '../connect/target.js';
import { closeNodes, discoverNodes, type DeploymentNode } from '../connect/nodes.js';
import type { Rails } from '../rails.js';

/**
 * Who is connected, on every node (CLIENT LIST), grouped the three ways an
 * SRE asks: by client name, by source host, by ACL user. Read-only; `kill`
 * goes through the rails and never touches our own connections or a
 * replication link.
 */
export interface ClientInfo {
  node: string;
  id: string;
  addr: string;
  /** The source host (addr without its port). */
  host: string;
  name: string;
  user: string;
  db: number;
  ageSec: number;
  idleSec: number;
  flags: string;
  /** The last command it ran. */
  cmd: string;
  /** Memory the client uses in all (tot-mem), and its output buffer (omem). */
  totMemBytes: number;
  outputBytes: number;
  blocked: boolean;
  /** A replica's or a master's link (flags S or M): never killed. */
  replication: boolean;
  /** One of redis-ops's own connections (named redis-ops…). */
  ours: boolean;
}

export interface ClientGroup {
  by: 'name' | 'host' | 'user';
  value: string;
  count: number;
  oldestAgeSec: number;
  longestIdleSec: number;
  totMemBytes: number;
  outputBytes: number;
  blocked: number;
  /** The commands its clients ran last, most frequent first. */
  commands: { cmd: string; count: number }[];
}

export interface Offender {
  kind: 'output-buffer' | 'idle' | 'host-share';
  /** A client (node id) or a host. */
  node: string | null;
  id: string | null;
  what: string;
  reason: string;
}

export interface ClientsReport {
  nodes: { node: string; role: string; clients: number; error: string | null }[];
  clients: ClientInfo[];
  groups: ClientGroup[];
  offenders: Offender[];
}

export interface OffenderThresholds {
  /** Output buffer over this many bytes. */
  outputOverBytes: number;
  /** Idle longer than this (null: not checked). */
  idleOverSec: number | null;
  /** One host holding more than this share of all connections (0–1), when there are at least 10. */
  hostShare: number;
}

/** One CLIENT LIST line: `id=7 addr=127.0.0.1:50000 … name=x … cmd=get user=default …`. */
export function parseClientLine(line: string, node: string): ClientInfo | null {
  const f: Record<string, string> = {};
  for (const part of line.trim().split(' ')) {
    const i = part.indexOf('=');
    if (i > 0) f[part.slice(0, i)] = part.slice(i + 1);
  }
  if (f.id === undefined || f.addr === undefined) return null;
  const flags = f.flags ?? '';
  const name = f.name ?? '';
  return {
    node, id: f.id, addr: f.addr, host: f.addr.slice(0, f.addr.lastIndexOf(':')) || f.addr, name, user: f.user ?? 'default',
    db: Number(f.db ?? 0), ageSec: Number(f.age ?? 0), idleSec: Number(f.idle ?? 0), flags, cmd: f.cmd ?? '',
    totMemBytes: Number(f['tot-mem'] ?? 0), outputBytes: Number(f.omem ?? 0),
    blocked: flags.includes('b'), replication: /[SM]/.test(flags), ours: name === 'redis-ops' || name.startsWith('redis-ops:'),
  };
}

export function parseClientList(text: string, node: string): ClientInfo[] {
  return text.split('\n').map((l) => parseClientLine(l, node)).filter((c): c is ClientInfo => c !== null);
}

export function groupClients(clients: ClientInfo[], by: ClientGroup['by']): ClientGroup[] {
  const groups = new Map<string, ClientInfo[]>();
  for (const c of clients) {
    const value = by === 'name' ? c.name || '(no name)' : by === 'host' ? c.host : c.user;
    groups.set(value, [...(groups.get(value) ?? []), c]);
  }
  return [...groups].map(([value, cs]) => {
    const cmds = new Map<string, number>();
    for (const c of cs) cmds.set(c.cmd, (cmds.get(c.cmd) ?? 0) + 1);
    return {
      by, value, count: cs.length,
      oldestAgeSec: Math.max(...cs.map((c) => c.ageSec)), longestIdleSec: Math.max(...cs.map((c) => c.idleSec)),
      totMemBytes: cs.reduce((a, c) => a + c.totMemBytes, 0), outputBytes: cs.reduce((a, c) => a + c.outputBytes, 0),
      blocked: cs.filter((c) => c.blocked).length,
      commands: [...cmds].map(([cmd, count]) => ({ cmd, count })).sort((a, b) => b.count - a.count || a.cmd.localeCompare(b.cmd)).slice(0, 5),
    };
  }).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

export function findOffenders(clients: ClientInfo[], t: OffenderThresholds): Offender[] {
  const out: Offender[] = [];
  for (const c of clients) {
    if (c.outputBytes > t.outputOverBytes) out.push({ kind: 'output-buffer', node: c.node, id: c.id, what: `${c.addr}${c.name ? ` (${c.name})` : ''}`, reason: `output buffer ${c.outputBytes} bytes (over ${t.outputOverBytes})` });
    if (t.idleOverSec !== null && c.idleSec > t.idleOverSec && !c.replication) out.push({ kind: 'idle', node: c.node, id: c.id, what: `${c.addr}${c.name ? ` (${c.name})` : ''}`, reason: `idle ${c.idleSec} s (over ${t.idleOverSec} s)` });
  }
  const users = clients.filter((c) => !c.replication && !c.ours);
  if (users.length >= 10) {
    for (const g of groupClients(users, 'host')) {
      if (g.count / users.length > t.hostShare) out.push({ kind: 'host-share', node: null, id: null, what: g.value, reason: `${g.count} of ${users.length} connections (${Math.round((g.count / users.length) * 100)}%, over ${Math.round(t.hostShare * 100)}%)` });
    }
  }
  return out;
}

/** Runs `fn` with every node of the deployment (primaries and replicas), and closes the ones it opened. */
async function withNodes<T>(target: Target, fn: (nodes: DeploymentNode[]) => Promise<T>): Promise<T> {
  const nodes = await discoverNodes(target);
  try {
    return await fn(nodes);
  } finally {
    closeNodes(nodes);
  }
}

async function listOn(node: DeploymentNode): Promise<ClientInfo[]> {
  return parseClientList(String(await node.client!.call('CLIENT', 'LIST')), node.address);
}

export async function collectClients(target: Target, thresholds: OffenderThresholds): Promise<ClientsReport> {
  return withNodes(target, async (nodes) => {
    const report: ClientsReport = { nodes: [], clients: [], groups: [], offenders: [] };
    await Promise.all(nodes.map(async (n) => {
      if (!n.client) {
        report.nodes.push({ node: n.address, role: n.role, clients: 0, error: n.error?.message.split('\n')[0] ?? 'unreachable' });
        return;
      }
      try {
        const cs = await listOn(n);
        report.clients.push(...cs);
        report.nodes.push({ node: n.address, role: n.role, clients: cs.length, error: null });
      } catch (e) {
        report.nodes.push({ node: n.address, role: n.role, clients: 0, error: target.failAt(n.address, e).message.split('\n')[0]! });
      }
    }));
    report.nodes.sort((a, b) => a.node.localeCompare(b.node));
    report.clients.sort((a, b) => a.node.localeCompare(b.node) || Number(a.id) - Number(b.id));
    report.groups = [...groupClients(report.clients, 'name'), ...groupClients(report.clients, 'host'), ...groupClients(report.clients, 'user')];
    report.offenders = findOffenders(report.clients, thresholds);
    return report;
  });
}

export interface KillFilter {
  idleOverSec?: number;
  name?: string;
  addr?: string;
  user?: string;
}

export interface KillResult {
  dryRun: boolean;
  matched: number;
  killed: number;
  /** Left alone: it was busy again, or already gone, by the time of the kill. */
  skipped: Record<string, number>;
  clients: (Pick<ClientInfo, 'node' | 'id' | 'addr' | 'name' | 'user' | 'idleSec'> & { result: string })[];
  stopped: string | null;
}

/** Whether a client is one `clients kill` may consider: never ours, never a replication link. */
export function killable(c: ClientInfo, f: KillFilter): boolean {
  if (c.ours || c.replication) return false;
  if (f.idleOverSec !== undefined && !(c.idleSec > f.idleOverSec)) return false;
  if (f.name !== undefined && c.name !== f.name) return false;
  if (f.addr !== undefined && c.addr !== f.addr && c.host !== f.addr) return false;
  if (f.user !== undefined && c.user !== f.user) return false;
  return true;
}

/** The clients a kill would close, per node (read-only). */
export async function planKill(target: Target, f: KillFilter): Promise<ClientInfo[]> {
  return withNodes(target, async (nodes) => {
    const lists = await Promise.all(nodes.filter((n) => n.client).map(async (n) => {
      // Our own connection to this node, whatever its name: CLIENT ID.
      const self = String(await n.client!.call('CLIENT', 'ID'));
      return (await listOn(n)).filter((c) => c.id !== self && killable(c, f));
    }));
    return lists.flat();
  });
}

/**
 * Kills the planned clients through the rails, each one checked again just
 * before (CLIENT LIST ID: still there, still idle long enough, still the same
 * address), so a connection that woke up since the plan is left alone.
 */
export async function killClients(target: Target, plan: ClientInfo[], f: KillFilter, rails: Rails): Promise<KillResult> {
  const result: KillResult = { dryRun: rails.dryRun, matched: plan.length, killed: 0, skipped: {}, clients: [], stopped: null };
  await rails.openLog();
  await withNodes(target, async (nodes) => {
    const byNode = new Map(nodes.map((n) => [n.address, n.client]));
    for (const c of plan) {
      const client = byNode.get(c.node) ?? null;
      const step = await rails.apply([c], {
        write: async () => [client ? await killOne(client, c, f) : 'node unreachable'],
        change: () => ({ action: 'client-kill', node: c.node, detail: { id: c.id, addr: c.addr, name: c.name, user: c.user, idleSec: c.idleSec } }),
      });
      if (!step) {
        result.stopped = rails.stopReason;
        break;
      }
      const o = step.outcomes[0]!;
      if (o === 'done') result.killed++;
      else if (o !== 'planned') result.skipped[o] = (result.skipped[o] ?? 0) + 1;
      result.clients.push({ node: c.node, id: c.id, addr: c.addr, name: c.name, user: c.user, idleSec: c.idleSec, result: o === 'planned' ? 'would kill' : o === 'done' ? 'killed' : `left alone: ${o}` });
    }
  });
  return result;
}

async function killOne(client: Redis, c: ClientInfo, f: KillFilter): Promise<string> {
  // CLIENT LIST ID is Redis 6.2+; before, the whole list.
  const text = await client.call('CLIENT', 'LIST', 'ID', c.id).catch(() => client.call('CLIENT', 'LIST'));
  const now = parseClientList(String(text), c.node).find((x) => x.id === c.id);
  if (!now || now.addr !== c.addr) return 'gone';
  if (!killable(now, f)) return 'busy again';
  const n = Number(await client.call('CLIENT', 'KILL', 'ID', c.id, 'SKIPME', 'yes'));
  return n === 1 ? 'done' : 'gone';
}
