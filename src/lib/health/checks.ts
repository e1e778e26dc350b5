import { formatBytes } from '../numbers.js';
import { num, replicasOf, type InfoFields } from '../info.js';
import type { CheckName, Levels, Thresholds } from './thresholds.js';

export type Status = 'ok' | 'warn' | 'crit' | 'unknown';

export interface Check {
  name: CheckName;
  node: string;
  status: Status;
  value: number | string | null;
  unit: string | null;
  threshold: Levels | null;
  message: string;
}

/** What was read from one node; checks are pure functions of it. */
export interface NodeSnapshot {
  address: string;
  role: 'master' | 'replica';
  reachable: boolean;
  error: string | null;
  pingMs: number | null;
  info: InfoFields;
  /** `save` or AOF configured; null when CONFIG GET was not allowed. */
  saveConfigured: boolean | null;
  /** The ping figure is the first answer after connecting, which stalled (PING itself was fast). */
  stalledFirst?: boolean;
  /** New slowlog entries since the remembered id; null without --slowlog-state. */
  slowlogNew: number | null;
  clusterFlags: string[];
}

export interface CheckOptions {
  thresholds: Thresholds;
  expectReplicas?: number;
  nowSec: number;
}

/** Severity order for the overall status: a critical check outranks an unknown one. */
const RANK: Record<Status, number> = { ok: 0, warn: 1, unknown: 2, crit: 3 };

export function overallStatus(checks: Check[]): Status {
  return checks.reduce<Status>((worst, c) => (RANK[c.status] > RANK[worst] ? c.status : worst), 'ok');
}

export function level(value: number, t: Levels): Status {
  if (t.crit !== null && value >= t.crit) return 'crit';
  if (t.warn !== null && value >= t.warn) return 'warn';
  return 'ok';
}

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export function evaluateNode(s: NodeSnapshot, o: CheckOptions): Check[] {
  const t = o.thresholds;
  const node = s.address;
  const out: Check[] = [];
  const add = (name: CheckName, status: Status, value: Check['value'], unit: string | null, threshold: Levels | null, message: string) =>
    out.push({ name, node, status, value, unit, threshold, message });
  const graded = (name: keyof Thresholds, value: number, unit: string | null, describe: (st: Status) => string) => {
    const st = level(value, t[name]);
    add(name, st, value, unit, t[name], describe(st));
  };

  if (!s.reachable) {
    add('ping', 'crit', null, 'ms', t.ping, `unreachable: ${s.error ?? 'no answer'}`);
    return out;
  }
  if (s.error) {
    add('ping', 'unknown', round(s.pingMs ?? 0, 2), 'ms', t.ping, `answers PING, but could not be checked: ${s.error}`);
    return out;
  }
  const i = s.info;
  graded('ping', round(s.pingMs ?? 0, 2), 'ms', () => (s.stalledFirst
    ? `the first command after connecting was answered in ${round(s.pingMs ?? 0, 2)} ms (the server stalled)`
    : `PING answered in ${round(s.pingMs ?? 0, 2)} ms`));

  const used = num(i, 'used_memory') ?? 0;
  const max = num(i, 'maxmemory') ?? 0;
  const policy = i.maxmemory_policy ?? 'unknown';
  if (max > 0) {
    const pct = round((used / max) * 100);
    graded('memory', pct, '%', (st) => `${formatBytes(used)} of maxmemory ${formatBytes(max)}${st === 'ok' ? '' : `; policy ${policy}${policy === 'noeviction' ? ': writes will fail when full' : ': keys will be evicted'}`}`);
  } else add('memory', 'ok', null, '%', t.memory, `${formatBytes(used)} used; no maxmemory limit (policy ${policy})`);

  const rss = num(i, 'used_memory_rss');
  const total = num(i, 'total_system_memory');
  if (rss !== null && total) {
    const pct = round((rss / total) * 100);
    graded('rss', pct, '%', () => `RSS ${formatBytes(rss)} of ${formatBytes(total)} host memory`);
  }

  const ratio = num(i, 'mem_fragmentation_ratio');
  const fragBytes = num(i, 'mem_fragmentation_bytes') ?? 0;
  if (ratio !== null) {
    // A high ratio matters only with real waste: Redis itself does not
    // defragment below 100 MB (active-defrag-ignore-bytes); a fresh server
    // shows ratio 2.5 on a few MB and is healthy.
    const floorMb = t.fragmentationWasteMb.warn;
    const judged = floorMb === null || fragBytes >= floorMb * 1024 * 1024;
    const st = judged ? level(ratio, t.fragmentation) : 'ok';
    const swapping = ratio < 1 && used > 100 * 1024 * 1024;
    const rule = t.fragmentation.warn === null ? '' : ` (warns over ${t.fragmentation.warn}${floorMb === null ? '' : ` with at least ${floorMb} MB`})`;
    add('fragmentation', swapping ? 'warn' : st, ratio, 'ratio', t.fragmentation,
      swapping ? `RSS below used memory (ratio ${ratio}): parts of the dataset may be swapped out` : `ratio ${ratio}, ${formatBytes(Math.max(0, fragBytes))} beyond the allocated memory${rule}`);
  }

  const evicted = num(i, 'evicted_keys') ?? 0;
  graded('evictedKeys', evicted, 'count', () => `${evicted} keys evicted since start`);
  const rejected = num(i, 'rejected_connections') ?? 0;
  graded('rejectedConnections', rejected, 'count', (st) => `${rejected} connections rejected since start${st === 'ok' ? '' : ' (maxclients reached)'}`);

  const clients = num(i, 'connected_clients') ?? 0;
  const maxclients = num(i, 'maxclients');
  if (maxclients) graded('clients', round((clients / maxclients) * 100), '%', () => `${clients} of maxclients ${maxclients} connected`);
  const blocked = num(i, 'blocked_clients') ?? 0;
  graded('blockedClients', blocked, 'count', () => `${blocked} clients blocked (BLPOP, XREAD BLOCK, …)`);

  const rdbOk = (i.rdb_last_bgsave_status ?? 'ok') === 'ok';
  const aofOn = i.aof_enabled === '1';
  const aofOk = !aofOn || (i.aof_last_write_status ?? 'ok') === 'ok';
  add('persistence', rdbOk && aofOk ? 'ok' : 'crit', rdbOk && aofOk ? 'ok' : 'err', null, null,
    !rdbOk ? 'the last background save failed (rdb_last_bgsave_status:err): check disk space and the server log' :
      !aofOk ? 'the last AOF write failed (aof_last_write_status:err)' :
        `rdb ${i.rdb_last_bgsave_status ?? 'ok'}${aofOn ? ', aof ok' : ''}`);

  const changes = num(i, 'rdb_changes_since_last_save') ?? 0;
  const lastSave = num(i, 'rdb_last_save_time');
  if (s.saveConfigured === false && !aofOn) add('lastSave', 'ok', null, 's', t.lastSave, 'persistence is not configured (save "" and no AOF)');
  else if (lastSave !== null) {
    const age = Math.max(0, o.nowSec - lastSave);
    // Without unsaved changes, an old save is not a risk: nothing would be lost.
    const st = changes > 0 ? level(age, t.lastSave) : 'ok';
    add('lastSave', st, age, 's', t.lastSave, `last successful save ${age} s ago, ${changes} changes since${s.saveConfigured === null ? ' (save configuration unknown: CONFIG not allowed)' : ''}`);
  }

  if (i.loading === '1') add('loading', 'warn', 1, null, null, `loading the dataset (${i.loading_loaded_perc ?? '?'}% done, ETA ${i.loading_eta_seconds ?? '?'} s)`);
  else add('loading', 'ok', 0, null, null, 'not loading');

  if (s.role === 'replica' || i.role === 'slave') {
    const link = i.master_link_status ?? 'unknown';
    const master = `${i.master_host}:${i.master_port}`;
    const down = num(i, 'master_link_down_since_seconds');
    if (link !== 'up' && (down === null || down < 0 || i.master_sync_in_progress === '1')) {
      // Never connected yet (-1): the initial sync, e.g. the seconds of
      // repl-diskless-sync-delay after a replica starts. Not yet a failure.
      const total = num(i, 'master_sync_total_bytes');
      const perc = num(i, 'master_sync_perc');
      const progress = i.master_sync_in_progress === '1'
        ? `in progress${perc !== null ? `: ${Math.round(perc)}%` : ''}${total !== null && total > 0 ? ` of ${formatBytes(total)}` : ''}`
        : 'not started yet (the master prepares the transfer)';
      add('masterLink', 'warn', 'sync', null, t.masterLink, `initial sync from master ${master} ${progress}`);
    } else if (link !== 'up') {
      // A link down for a second is a blip; graded by how long, as a silent link is.
      const st = level(down!, t.masterLink);
      add('masterLink', st, down, 's', t.masterLink, `link to master ${master} is ${link} for ${down} s`);
    } else {
      const io = num(i, 'master_last_io_seconds_ago') ?? 0;
      graded('masterLink', io, 's', () => `link to master ${i.master_host}:${i.master_port} up, last heard ${io} s ago`);
    }
  } else {
    const replicas = replicasOf(i);
    const online = replicas.filter((r) => r.state === 'online').length;
    if (o.expectReplicas !== undefined) {
      add('replicas', online < o.expectReplicas ? 'crit' : 'ok', online, 'count', { warn: null, crit: o.expectReplicas },
        `${online} replica(s) online, ${o.expectReplicas} expected`);
    } else add('replicas', 'ok', online, 'count', null, `${online} replica(s) online`);
    if (replicas.length) {
      const worst = replicas.reduce((m, r) => Math.max(m, r.lagSec ?? 0), 0);
      graded('replicaLag', worst, 's', () => `worst replica lag ${worst} s (${replicas.map((r) => `${r.address} ${r.state} lag ${r.lagSec ?? '?'}s`).join(', ')})`);
    }
  }

  if (i.cluster_state !== undefined) {
    const assigned = num(i, 'cluster_slots_assigned') ?? 0;
    const fail = num(i, 'cluster_slots_fail') ?? 0;
    const pfail = num(i, 'cluster_slots_pfail') ?? 0;
    const st: Status = i.cluster_state !== 'ok' || assigned < 16384 || fail > 0 ? 'crit' : pfail > 0 ? 'warn' : 'ok';
    add('cluster', st, i.cluster_state, null, null,
      `cluster_state ${i.cluster_state}, ${assigned}/16384 slots assigned, ${fail} failed, ${pfail} possibly failing, ${i.cluster_known_nodes ?? '?'} nodes known`);
  }

  if (s.slowlogNew !== null) graded('slowlog', s.slowlogNew, 'count', () => `${s.slowlogNew} new slowlog entries since the last run`);
  return out;
}
