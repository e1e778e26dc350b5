import type { Redis } from 'ioredis';
import { closeNodes, discoverNodes } from '../connect/nodes.js';
import type { Target } from '../connect/target.js';
import { parseInfo, parseKv } from '../info.js';
import { sleep } from '../pace.js';

export interface PingStats {
  samples: number;
  minUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

export interface NodeLatency {
  node: string;
  role: string;
  error: string | null;
  ping: PingStats | null;
  monitor: {
    enabled: boolean | null;
    thresholdMs: number | null;
    latest: { event: string; time: number; latestMs: number; maxMs: number }[];
    doctor: string | null;
    /** How to turn monitoring on, when it is off; or why it could not be read (LATENCY not allowed). */
    hint: string | null;
  };
  /** INFO latencystats (Redis 7+): per-command percentiles; null on older servers. */
  commands: { command: string; p50Us: number; p99Us: number; p999Us: number }[] | null;
}

export interface LatencyOptions {
  samples: number;
  intervalMs: number;
  signal?: AbortSignal;
}

export async function measureLatency(target: Target, opts: LatencyOptions): Promise<NodeLatency[]> {
  const nodes = await discoverNodes(target);
  try {
    return await Promise.all(nodes.map(async (n): Promise<NodeLatency> => {
      const empty: NodeLatency = { node: n.address, role: n.role, error: null, ping: null, monitor: { enabled: null, thresholdMs: null, latest: [], doctor: null, hint: null }, commands: null };
      if (!n.client) return { ...empty, error: n.error?.message ?? 'unreachable' };
      try {
        return { ...empty, ping: await pingRoundTrips(n.client, opts), monitor: await monitorReport(n.client), commands: await commandLatency(n.client) };
      } catch (e) {
        return { ...empty, error: target.failAt(n.address, e).message };
      }
    }));
  } finally {
    closeNodes(nodes);
  }
}

async function pingRoundTrips(client: Redis, opts: LatencyOptions): Promise<PingStats> {
  const us: number[] = [];
  for (let i = 0; i < opts.samples && !opts.signal?.aborted; i++) {
    const t0 = process.hrtime.bigint();
    await client.ping();
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (opts.intervalMs > 0) await sleep(opts.intervalMs, opts.signal);
  }
  return pingStats(us);
}

export function pingStats(us: number[]): PingStats {
  const s = [...us].sort((a, b) => a - b);
  const q = (p: number) => Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0);
  return { samples: s.length, minUs: Math.round(s[0] ?? 0), p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99), maxUs: Math.round(s[s.length - 1] ?? 0) };
}

async function monitorReport(client: Redis): Promise<NodeLatency['monitor']> {
  let threshold: number | null = null;
  try {
    const cfg = (await client.config('GET', 'latency-monitor-threshold')) as string[];
    threshold = Number(cfg[1]);
  } catch {
    /* CONFIG not allowed: we can still read what LATENCY says */
  }
  if (threshold === 0) {
    return { enabled: false, thresholdMs: 0, latest: [], doctor: null, hint: 'latency monitoring is off: CONFIG SET latency-monitor-threshold 100 records events slower than 100 ms' };
  }
  let latest: NodeLatency['monitor']['latest'];
  let doctor: string;
  try {
    latest = ((await client.call('LATENCY', 'LATEST')) as [string, number, number, number][]).map(([event, time, latestMs, maxMs]) => ({ event, time: Number(time), latestMs: Number(latestMs), maxMs: Number(maxMs) }));
    doctor = String(await client.call('LATENCY', 'DOCTOR'));
  } catch (e) {
    // An ACL user without LATENCY: the PING figures measured still stand.
    if (!/NOPERM|no permissions/i.test(String((e as Error).message))) throw e;
    return { enabled: null, thresholdMs: threshold, latest: [], doctor: null, hint: 'LATENCY is not allowed for this user: events and the doctor\'s report are left out; the PING figures stand' };
  }
  return { enabled: threshold === null ? null : true, thresholdMs: threshold, latest, doctor, hint: null };
}

async function commandLatency(client: Redis): Promise<NodeLatency['commands']> {
  let text: string;
  try {
    text = await client.info('latencystats');
  } catch {
    return null;
  }
  const info = parseInfo(text);
  const rows = Object.entries(info).filter(([k]) => k.startsWith('latency_percentiles_usec_'));
  if (rows.length === 0 && !/# Latencystats/i.test(text)) return null;
  return rows.map(([k, v]) => {
    const kv = parseKv(v);
    return { command: k.slice('latency_percentiles_usec_'.length), p50Us: Number(kv.p50 ?? 0), p99Us: Number(kv.p99 ?? 0), p999Us: Number(kv['p99.9'] ?? 0) };
  }).sort((a, b) => b.p99Us - a.p99Us);
}
