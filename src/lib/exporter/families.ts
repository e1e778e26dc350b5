import type { Check, Status } from '../health/checks.js';
import type { HealthReport } from '../health/collect.js';
import { num, replicasOf, type InfoFields } from '../info.js';
import type { GroupStats } from '../keys/stats.js';
import type { QueueInfo } from '../queues/model.js';
import type { WorkersReport } from '../workers/model.js';
import { Families } from './metrics.js';

/**
 * Every metric redis-ops exports, named once: the exporter, `health
 * --prom-file` and `queue stats --prom-file` all build their figures here.
 */

export const STATUS_VALUE: Record<Status, number> = { ok: 0, warn: 1, crit: 2, unknown: 3 };

/** The health checks, exactly as `redis-ops health` grades them. */
export function healthFamilies(r: HealthReport, into = new Families()): Families {
  into.gauge('redis_ops_health_status', 'Overall health: 0 ok, 1 warn, 2 crit, 3 unknown.', { target: r.target }, STATUS_VALUE[r.status]);
  for (const c of r.checks) {
    into.gauge('redis_ops_health_check_status', 'Status of one check on one node: 0 ok, 1 warn, 2 crit, 3 unknown.', { check: c.name, node: c.node }, STATUS_VALUE[c.status]);
  }
  for (const c of r.checks.filter((x): x is Check & { value: number } => typeof x.value === 'number')) {
    into.gauge('redis_ops_health_check_value', 'The measured value of a check (its unit in the label).', { check: c.name, node: c.node, unit: c.unit ?? '' }, c.value);
  }
  for (const n of r.nodes) {
    for (const k of n.keyspace) {
      into.gauge('redis_ops_keyspace_keys', 'Keys per database.', { node: n.node, db: k.db }, k.keys);
      into.gauge('redis_ops_keyspace_expires', 'Keys with an expiry per database.', { node: n.node, db: k.db }, k.expires);
    }
  }
  return into;
}

const QUEUE_GAUGES: [keyof QueueInfo, string, string][] = [
  ['waiting', 'redis_ops_queue_waiting', 'Jobs ready to run.'],
  ['active', 'redis_ops_queue_active', 'Jobs in flight.'],
  ['delayed', 'redis_ops_queue_delayed', 'Jobs scheduled for later.'],
  ['retry', 'redis_ops_queue_retry', 'Jobs waiting for a retry.'],
  ['dead', 'redis_ops_queue_dead', 'Jobs given up on.'],
  ['completed', 'redis_ops_queue_completed', 'Finished jobs the system keeps.'],
  ['oldestWaitingAgeSec', 'redis_ops_queue_oldest_waiting_age_seconds', 'Age of the oldest waiting job.'],
];

/** One gauge per figure a queue system has (a figure it lacks, null, has no series). */
export function queueFamilies(queues: QueueInfo[], into = new Families()): Families {
  for (const [field, metric, help] of QUEUE_GAUGES) {
    into.family(metric, 'gauge', help);
    for (const q of queues) into.gauge(metric, help, { queue: q.name, system: q.system, db: q.db }, q[field] as number | null);
  }
  return into;
}

/** Workers alive and dead per system, and in-flight jobs no live worker holds. */
export function workerFamilies(reports: WorkersReport[], into = new Families()): Families {
  const alive = new Map<string, { alive: number; dead: number }>();
  const orphans = new Map<string, number>();
  for (const r of reports) {
    for (const w of r.workers) {
      const id = `${w.system}\n${w.db}`;
      const c = alive.get(id) ?? { alive: 0, dead: 0 };
      c[w.alive ? 'alive' : 'dead']++;
      alive.set(id, c);
    }
    for (const o of r.orphans) orphans.set(`${o.system}\n${o.db}`, (orphans.get(`${o.system}\n${o.db}`) ?? 0) + 1);
  }
  const help = 'Workers by state (alive: heartbeat fresh by its system\'s own rule).';
  into.family('redis_ops_workers', 'gauge', help);
  for (const [id, c] of alive) {
    const [system, db] = id.split('\n');
    into.gauge('redis_ops_workers', help, { system: system!, db: db!, state: 'alive' }, c.alive);
    into.gauge('redis_ops_workers', help, { system: system!, db: db!, state: 'dead' }, c.dead);
  }
  const ohelp = 'In-flight jobs no live worker holds.';
  into.family('redis_ops_orphaned_jobs', 'gauge', ohelp);
  for (const id of new Set([...alive.keys(), ...orphans.keys()])) {
    const [system, db] = id.split('\n');
    into.gauge('redis_ops_orphaned_jobs', ohelp, { system: system!, db: db! }, orphans.get(id) ?? 0);
  }
  return into;
}

export interface LockCount { pattern: string; db: number; count: number; stale: number }

export function lockFamilies(counts: LockCount[], into = new Families()): Families {
  for (const c of counts) {
    into.gauge('redis_ops_locks', 'Lock keys matching a configured pattern.', { pattern: c.pattern, db: c.db }, c.count);
    into.gauge('redis_ops_locks_stale', 'Of those, stale by the locks rule (no expiry and idle past staleAfter, or a TTL over maxTtl).', { pattern: c.pattern, db: c.db }, c.stale);
  }
  return into;
}

/** Key patterns from the last background walk (the largest by bytes, the rest folded by keys stats). */
export function patternFamilies(groups: GroupStats[], into = new Families()): Families {
  for (const g of groups) {
    const labels = { db: g.db, pattern: g.pattern };
    into.gauge('redis_ops_keys_pattern_keys', 'Keys of an inferred pattern, at the last walk.', labels, g.count);
    into.gauge('redis_ops_keys_pattern_bytes', 'MEMORY USAGE of the keys of a pattern, at the last walk.', labels, g.bytes);
    into.gauge('redis_ops_keys_pattern_no_ttl_ratio', 'Share (0-1) of a pattern\'s keys without an expiry, at the last walk.', labels, g.noTtlShare);
  }
  return into;
}

type InfoMetric = [field: string, metric: string, type: 'gauge' | 'counter', help: string, scale?: number];

/** INFO fields worth a series, per node: name, type, help, and a scale to base units. */
const INFO_METRICS: InfoMetric[] = [
  ['uptime_in_seconds', 'redis_ops_uptime_seconds', 'gauge', 'Seconds since the server started.'],
  ['used_memory', 'redis_ops_memory_used_bytes', 'gauge', 'Memory the allocator gave Redis (used_memory).'],
  ['maxmemory', 'redis_ops_memory_max_bytes', 'gauge', 'maxmemory (0: no limit).'],
  ['used_memory_rss', 'redis_ops_memory_rss_bytes', 'gauge', 'Resident set size of the server process.'],
  ['mem_fragmentation_ratio', 'redis_ops_memory_fragmentation_ratio', 'gauge', 'RSS divided by used memory.'],
  ['connected_clients', 'redis_ops_connected_clients', 'gauge', 'Client connections (not replicas).'],
  ['blocked_clients', 'redis_ops_blocked_clients', 'gauge', 'Clients in a blocking call (BLPOP, XREAD BLOCK…).'],
  ['total_commands_processed', 'redis_ops_commands_processed_total', 'counter', 'Commands processed (rate() of it is ops per second).'],
  ['total_connections_received', 'redis_ops_connections_received_total', 'counter', 'Connections accepted.'],
  ['rejected_connections', 'redis_ops_rejected_connections_total', 'counter', 'Connections refused (maxclients reached).'],
  ['keyspace_hits', 'redis_ops_keyspace_hits_total', 'counter', 'Successful key lookups.'],
  ['keyspace_misses', 'redis_ops_keyspace_misses_total', 'counter', 'Failed key lookups.'],
  ['evicted_keys', 'redis_ops_evicted_keys_total', 'counter', 'Keys evicted under maxmemory.'],
  ['expired_keys', 'redis_ops_expired_keys_total', 'counter', 'Keys removed by expiry.'],
  ['total_net_input_bytes', 'redis_ops_net_input_bytes_total', 'counter', 'Bytes read from the network.'],
  ['total_net_output_bytes', 'redis_ops_net_output_bytes_total', 'counter', 'Bytes written to the network.'],
  ['master_repl_offset', 'redis_ops_replication_offset_bytes', 'gauge', 'The node\'s replication offset.'],
  ['connected_slaves', 'redis_ops_connected_replicas', 'gauge', 'Replicas connected to this node.'],
  ['master_last_io_seconds_ago', 'redis_ops_replica_last_io_age_seconds', 'gauge', 'Replicas: seconds since the last message from the master.'],
  ['rdb_changes_since_last_save', 'redis_ops_rdb_changes_since_last_save', 'gauge', 'Writes since the last RDB save.'],
  ['rdb_last_save_time', 'redis_ops_rdb_last_save_timestamp_seconds', 'gauge', 'When the last RDB save succeeded (Unix time).'],
  ['aof_enabled', 'redis_ops_aof_enabled', 'gauge', 'AOF is on (1) or off (0).'],
  ['loading', 'redis_ops_loading', 'gauge', 'The node is loading its data set (1).'],
];

export interface NodeInfo { node: string; role: 'master' | 'replica'; up: boolean; info: InfoFields }

/** INFO essentials per node; `up` 0 for a node that did not answer (its other series are then absent). */
export function nodeFamilies(nodes: NodeInfo[], into = new Families()): Families {
  for (const n of nodes) into.gauge('redis_ops_up', 'The node answered (1) or not (0) at this scrape.', { node: n.node }, n.up ? 1 : 0);
  for (const n of nodes.filter((x) => x.up && x.info.redis_version)) {
    into.gauge('redis_ops_node_info', 'Node facts as labels (value 1).', {
      node: n.node, role: n.role, version: n.info.redis_version ?? '', mode: n.info.redis_mode ?? '',
    }, 1);
  }
  for (const [field, metric, type, help, scale] of INFO_METRICS) {
    into.family(metric, type, help);
    for (const n of nodes) {
      const v = n.up ? num(n.info, field) : null;
      if (v !== null) into.family(metric, type, help).samples.push({ labels: { node: n.node }, value: v * (scale ?? 1) });
    }
  }
  for (const n of nodes.filter((x) => x.up)) {
    const i = n.info;
    for (const [mode, field] of [['user', 'used_cpu_user'], ['sys', 'used_cpu_sys']] as const) {
      into.counter('redis_ops_cpu_seconds_total', 'CPU seconds the server used.', { node: n.node, mode }, num(i, field));
    }
    if (i.rdb_last_bgsave_status) into.gauge('redis_ops_rdb_last_bgsave_ok', 'The last background save succeeded (1) or failed (0).', { node: n.node }, i.rdb_last_bgsave_status === 'ok' ? 1 : 0);
    if (i.aof_enabled === '1' && i.aof_last_write_status) into.gauge('redis_ops_aof_last_write_ok', 'The last AOF write succeeded (1) or failed (0).', { node: n.node }, i.aof_last_write_status === 'ok' ? 1 : 0);
    if (n.role === 'replica' && i.master_link_status) {
      into.gauge('redis_ops_replica_link_up', 'Replicas: the link to the master is up (1) or down (0).', { node: n.node }, i.master_link_status === 'up' ? 1 : 0);
    }
    // Lag in bytes from the master's own view: its offset minus each replica's acknowledged one.
    const offset = num(i, 'master_repl_offset');
    for (const r of replicasOf(i)) {
      if (offset !== null) into.gauge('redis_ops_replica_lag_bytes', 'Bytes a replica is behind its master (from the master\'s INFO).', { node: n.node, replica: r.address }, Math.max(0, offset - r.offset));
    }
  }
  return into;
}
