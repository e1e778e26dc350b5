import { describe, expect, it } from 'vitest';
import { evaluateNode, overallStatus, type NodeSnapshot } from '../../src/lib/health/checks.js';
import { resolveThresholds } from '../../src/lib/health/thresholds.js';
import { parseInfo } from '../../src/lib/info.js';

const base = (info: string, extra: Partial<NodeSnapshot> = {}): NodeSnapshot => ({
  address: 'h:1', role: 'master', reachable: true, error: null, pingMs: 0.5, info: parseInfo(info),
  saveConfigured: true, slowlogNew: null, clusterFlags: [], ...extra,
});
const opts = { thresholds: resolveThresholds(undefined, []), nowSec: 1_000_000 };
const find = (info: string, name: string, extra: Partial<NodeSnapshot> = {}, o = opts) =>
  evaluateNode(base(info, extra), o).find((c) => c.name === name)!;

describe('health checks', () => {
  it('grades memory against maxmemory and names the policy when close to full', () => {
    expect(find('used_memory:50\r\nmaxmemory:100\r\nmaxmemory_policy:noeviction', 'memory')).toMatchObject({ status: 'ok', value: 50 });
    const warn = find('used_memory:75\nmaxmemory:100\nmaxmemory_policy:allkeys-lru', 'memory');
    expect(warn).toMatchObject({ status: 'warn', value: 75, unit: '%', threshold: { warn: 70, crit: 90 } });
    expect(warn.message).toContain('allkeys-lru');
    const crit = find('used_memory:95\nmaxmemory:100\nmaxmemory_policy:noeviction', 'memory');
    expect(crit.status).toBe('crit');
    expect(crit.message).toContain('writes will fail');
  });

  it('flags fragmentation only over the ratio and with at least 100 MB of waste (Redis does not defragment below that)', () => {
    expect(find('mem_fragmentation_ratio:2.5\nmem_fragmentation_bytes:1000', 'fragmentation').status).toBe('ok');
    // A fresh 7 MB server: ratio 2.55, 11 MB of waste: healthy (it used to warn).
    const fresh = find(`used_memory:${7 * 1024 * 1024}\nmem_fragmentation_ratio:2.55\nmem_fragmentation_bytes:${11 * 1024 * 1024}`, 'fragmentation');
    expect(fresh.status).toBe('ok');
    expect(fresh.message).toBe('ratio 2.55, 11.0 MB beyond the allocated memory (warns over 1.4 with at least 100 MB)');
    expect(find(`used_memory:${50 * 1024 * 1024}\nmem_fragmentation_ratio:2.5\nmem_fragmentation_bytes:${20 * 1024 * 1024}`, 'fragmentation').status).toBe('ok');
    const big = find(`used_memory:${500 * 1024 * 1024}\nmem_fragmentation_ratio:1.5\nmem_fragmentation_bytes:${250 * 1024 * 1024}`, 'fragmentation');
    expect(big).toMatchObject({ status: 'warn', value: 1.5 });
    expect(big.message).toBe('ratio 1.5, 250 MB beyond the allocated memory (warns over 1.4 with at least 100 MB)');
    // Configurable: the waste floor is a threshold of its own.
    const o = { ...opts, thresholds: resolveThresholds(undefined, ['fragmentationWasteMb.warn=10']) };
    expect(find(`used_memory:${50 * 1024 * 1024}\nmem_fragmentation_ratio:2.5\nmem_fragmentation_bytes:${20 * 1024 * 1024}`, 'fragmentation', {}, o).status).toBe('warn');
  });

  it('rejected connections are critical', () => {
    expect(find('rejected_connections:3', 'rejectedConnections').status).toBe('crit');
  });

  it('a failed save is critical; an old save with unsaved changes is critical', () => {
    expect(find('rdb_last_bgsave_status:err', 'persistence').status).toBe('crit');
    expect(find('rdb_last_save_time:900000\nrdb_changes_since_last_save:5', 'lastSave')).toMatchObject({ status: 'crit', value: 100000 });
    expect(find('rdb_last_save_time:900000\nrdb_changes_since_last_save:0', 'lastSave').status).toBe('ok');
    expect(find('rdb_last_save_time:900000\nrdb_changes_since_last_save:5', 'lastSave', { saveConfigured: false }).status).toBe('ok');
  });

  it('a replica\'s down link is graded by how long it has been down; an initial sync warns with its progress; a silent link is graded', () => {
    const down = (s: number) => find(`role:slave\nmaster_host:m\nmaster_port:1\nmaster_link_status:down\nmaster_link_down_since_seconds:${s}`, 'masterLink', { role: 'replica' });
    expect(down(1)).toMatchObject({ status: 'ok', value: 1, unit: 's', message: 'link to master m:1 is down for 1 s' });
    expect(down(12)).toMatchObject({ status: 'warn', value: 12 });
    expect(down(61)).toMatchObject({ status: 'crit', value: 61 });
    const sync = find('role:slave\nmaster_host:m\nmaster_port:1\nmaster_link_status:down\nmaster_link_down_since_seconds:-1\nmaster_sync_in_progress:1\nmaster_sync_total_bytes:1048576\nmaster_sync_read_bytes:262144\nmaster_sync_perc:25.00', 'masterLink', { role: 'replica' });
    expect(sync).toMatchObject({ status: 'warn', value: 'sync' });
    expect(sync.message).toBe('initial sync from master m:1 in progress: 25% of 1.0 MB');
    const waiting = find('role:slave\nmaster_host:m\nmaster_port:1\nmaster_link_status:down\nmaster_link_down_since_seconds:-1\nmaster_sync_in_progress:0', 'masterLink', { role: 'replica' });
    expect(waiting).toMatchObject({ status: 'warn', value: 'sync' });
    expect(waiting.message).toBe('initial sync from master m:1 not started yet (the master prepares the transfer)');
    expect(find('role:slave\nmaster_link_status:up\nmaster_last_io_seconds_ago:30', 'masterLink', { role: 'replica' }).status).toBe('warn');
  });

  it('counts online replicas against --expect-replicas and grades their lag', () => {
    const info = 'role:master\nslave0:ip=a,port=1,state=online,offset=5,lag=0\nslave1:ip=b,port=2,state=online,offset=5,lag=70';
    expect(find(info, 'replicas', {}, { ...opts, expectReplicas: 3 } as typeof opts)).toMatchObject({ status: 'crit', value: 2 });
    expect(find(info, 'replicaLag')).toMatchObject({ status: 'crit', value: 70 });
  });

  it('a cluster that is not ok is critical', () => {
    expect(find('cluster_state:fail\ncluster_slots_assigned:16384\ncluster_slots_fail:0', 'cluster').status).toBe('crit');
    expect(find('cluster_state:ok\ncluster_slots_assigned:16384\ncluster_slots_fail:0\ncluster_slots_pfail:1', 'cluster').status).toBe('warn');
  });

  it('an unreachable node is critical; overall status is the worst', () => {
    const checks = evaluateNode(base('', { reachable: false, error: 'refused' }), opts);
    expect(checks).toEqual([expect.objectContaining({ name: 'ping', status: 'crit' })]);
    expect(overallStatus([...checks, { ...checks[0], status: 'unknown' }])).toBe('crit');
  });

  it('thresholds come from defaults, config, then flags', () => {
    const t = resolveThresholds({ thresholds: { memory: { warn: 60 } } }, ['memory.crit=80', 'evictedKeys.warn=1', 'ping.crit=none']);
    expect(t.memory).toEqual({ warn: 60, crit: 80 });
    expect(t.evictedKeys).toEqual({ warn: 1, crit: null });
    expect(t.ping.crit).toBeNull();
    expect(() => resolveThresholds(undefined, ['memroy.warn=1'])).toThrow(/--threshold/);
  });
});
