import type { Redis } from 'ioredis';
import { closeNodes, discoverNodes, type DeploymentNode } from '../connect/nodes.js';
import type { Target } from '../connect/target.js';
import { translateRedisError } from '../connect/translate.js';
import { keyspace, parseInfo, type KeyspaceDb } from '../info.js';
import { advanceState, newSince, readSlowlog, readState, writeState, type SlowlogEntry } from '../slowlog/slowlog.js';
import { evaluateNode, overallStatus, type Check, type NodeSnapshot, type Status } from './checks.js';
import type { Thresholds } from './thresholds.js';

export interface HealthOptions {
  thresholds: Thresholds;
  expectReplicas?: number;
  only?: string[];
  skip?: string[];
  /** Remember slowlog ids here and report new entries as a check. */
  slowlogState?: string;
  /** Also return every node's slowlog (the exporter counts new entries itself). */
  readSlowlog?: boolean;
  /**
   * The target was opened for this check, so its first answer is the
   * server's own latency (false for a connection kept open between checks).
   */
  freshConnection?: boolean;
}

/** A first answer slower than this (well below the ping warning, 100 ms) is the server's stall, not our start-up. */
const STALL_MS = 50;

export interface HealthReport {
  status: Status;
  target: string;
  mode: string;
  checkedAt: string;
  checks: Check[];
  nodes: { node: string; role: string; reachable: boolean; keyspace: KeyspaceDb[] }[];
}

export async function collectHealth(target: Target, opts: HealthOptions): Promise<HealthReport> {
  return (await inspectHealth(target, opts)).report;
}

/** The report, and what each node's INFO said (the exporter's per-node series). */
export async function inspectHealth(target: Target, opts: HealthOptions): Promise<{ report: HealthReport; nodes: NodeSnapshot[]; slowlog: SlowlogEntry[] }> {
  const nodes = await discoverNodes(target);
  try {
    const state = opts.slowlogState ? readState(opts.slowlogState) : null;
    const snaps = await Promise.all(nodes.map(async (n, i) => {
      const s = await snapshot(target, n, state !== null ? 'required' : opts.readSlowlog ? 'optional' : 'none');
      // The node we connected to first may have stalled on the first command
      // and answered PING at once after: a first answer slower than
      // STALL_MS (a few ms of it are our own start-up) is its latency.
      const seed = target.mode === 'cluster' ? n.address === target.address : i === 0;
      const first = opts.freshConnection === false ? null : target.firstAnswerMs;
      if (seed && s.snapshot.pingMs !== null && first !== null && first > STALL_MS && first > s.snapshot.pingMs) {
        s.snapshot.pingMs = first;
        s.snapshot.stalledFirst = true;
      }
      return s;
    }));
    let slowState = state;
    if (state) {
      for (const s of snaps) {
        const fresh = newSince(s.slowlog, state).filter((e) => !e.self);
        s.snapshot.slowlogNew = fresh.length;
        slowState = advanceState(slowState!, s.slowlog);
      }
    }
    const nowSec = Math.floor(Date.now() / 1000);
    let checks = snaps.flatMap((s) => evaluateNode(s.snapshot, { thresholds: opts.thresholds, expectReplicas: opts.expectReplicas, nowSec }));
    if (opts.only?.length) checks = checks.filter((c) => opts.only!.includes(c.name));
    if (opts.skip?.length) checks = checks.filter((c) => !opts.skip!.includes(c.name));
    if (state && opts.slowlogState) writeState(opts.slowlogState, slowState!);
    const report: HealthReport = {
      status: overallStatus(checks),
      target: target.address,
      mode: target.mode,
      checkedAt: new Date().toISOString(),
      checks,
      nodes: snaps.map((s) => ({ node: s.snapshot.address, role: s.snapshot.role, reachable: s.snapshot.reachable, keyspace: keyspace(s.snapshot.info) })),
    };
    return { report, nodes: snaps.map((s) => s.snapshot), slowlog: snaps.flatMap((s) => s.slowlog) };
  } finally {
    closeNodes(nodes);
  }
}

async function snapshot(target: Target, n: DeploymentNode, wantSlowlog: 'none' | 'required' | 'optional') {
  const base: NodeSnapshot = {
    address: n.address, role: n.role, reachable: false, error: n.error ? n.error.message : null, pingMs: null,
    info: {}, saveConfigured: null, slowlogNew: null, clusterFlags: n.flags,
  };
  if (!n.client) return { snapshot: base, slowlog: [] };
  const client: Redis = n.client;
  try {
    const t0 = process.hrtime.bigint();
    await client.ping();
    base.pingMs = Number(process.hrtime.bigint() - t0) / 1e6;
    base.reachable = true;
    const p = client.pipeline();
    p.info();
    p.config('GET', 'save');
    const [[infoErr, infoText], [cfgErr, cfg]] = (await p.exec()) as [[Error | null, unknown], [Error | null, unknown]];
    if (infoErr) throw infoErr;
    base.info = parseInfo(String(infoText));
    if (!cfgErr && Array.isArray(cfg)) base.saveConfigured = String(cfg[1] ?? '').trim() !== '';
    if (base.info.cluster_enabled === '1') Object.assign(base.info, parseInfo(String(await client.call('CLUSTER', 'INFO'))));
    base.role = base.info.role === 'slave' ? 'replica' : 'master';
    // The exporter's counter is optional: a user without SLOWLOG still gets every other figure.
    // The health check's is not: a node it cannot read is unknown, not "no new entries".
    const slowlog = wantSlowlog === 'none' ? [] : await readSlowlog(client, n.address).catch((e: unknown) => {
      if (wantSlowlog === 'optional') return [];
      throw e;
    });
    return { snapshot: base, slowlog };
  } catch (e) {
    // Reachable (PING answered) but INFO refused, say, stays reachable: the checks say unknown.
    base.reachable = base.pingMs !== null;
    base.error = translateRedisError(e, { address: n.address, user: target.spec.user, timeoutMs: target.spec.timeoutMs, tls: target.spec.tls !== null }).message;
    return { snapshot: base, slowlog: [] };
  }
}
