import { addressOf, type ConnectionSpec } from '../connect/spec.js';
import { openTarget, type Target } from '../connect/target.js';
import { databasesToWalk } from '../connect/dbs.js';
import { inspectHealth } from '../health/collect.js';
import type { Thresholds } from '../health/thresholds.js';
import { collectKeyStats, type KeyStats } from '../keys/stats.js';
import { eachLock } from '../locks/locks.js';
import { sleep } from '../pace.js';
import type { DeclaredQueue, HeartbeatLayout } from '../queues/config.js';
import { countQueues } from '../queues/count.js';
import { findQueues } from '../queues/find.js';
import type { QueueRef } from '../queues/model.js';
import type { SlowlogEntry } from '../slowlog/slowlog.js';
import { collectWorkers, type WorkersReport } from '../workers/workers.js';
import {
  healthFamilies, lockFamilies, nodeFamilies, patternFamilies, queueFamilies, workerFamilies, type LockCount,
} from './families.js';
import { Families, type MetricFamily } from './metrics.js';
import { Problems } from './problems.js';

export interface ExporterSettings {
  thresholds: Thresholds;
  expectReplicas?: number;
  /** null: no queue, worker or lock families. */
  queues: { declared: DeclaredQueue[]; allDbs: boolean; discover: boolean } | null;
  workers: { staleAfterMs: number; heartbeats: HeartbeatLayout[] } | null;
  locks: { patterns: string[]; staleAfterMs: number; maxTtlMs?: number } | null;
  /** null: no key-pattern walk. */
  keys: { intervalMs: number; groups: number; separator: string; depth: number } | null;
  /** How often workers and locks are read again (walks filtered by the server). */
  refreshMs: number;
  /** How often queues are found again (a walk of every key when none are declared). */
  discoverMs: number;
  /** Keys per second any background walk reads, at most. */
  walkRate: number;
  slowlog: boolean;
}

/** Ran out of time: the figures it would have given are left out of this scrape. */
const LATE = Symbol('late');

/**
 * One promise at a time per collector: a scrape that finds the previous
 * one's call still running (a stalled node) waits on that call instead of
 * piling a second one onto the connection.
 */
class SingleCall<T> {
  private flight: Promise<T> | null = null;

  run(fn: () => Promise<T>): Promise<T> {
    if (!this.flight) {
      const p = fn();
      this.flight = p;
      const clear = () => { if (this.flight === p) this.flight = null; };
      p.then(clear, clear);
    }
    return this.flight;
  }
}

/**
 * A figure that is expensive to compute (a walk of the keyspace), refreshed
 * in the background every `intervalMs` and served from the last result in
 * between; a failed refresh is tried again at the next scrape.
 */
class Refreshed<T> {
  value: T | null = null;
  /** When the value was computed (ms), and how long that took. */
  at: number | null = null;
  tookMs: number | null = null;
  private started: number | null = null;
  private failed = false;
  private flight: Promise<void> | null = null;

  constructor(private readonly intervalMs: number, private readonly compute: () => Promise<T>, private readonly onError: (e: unknown) => void, private readonly onDone: () => void) {}

  /** Starts a refresh when one is due; resolves when the running one (if any) is done. */
  kick(now = Date.now()): Promise<void> {
    if (!this.flight && (this.started === null || this.failed || now - this.started >= this.intervalMs)) {
      this.started = now;
      this.flight = this.compute().then((v) => {
        this.value = v;
        this.at = Date.now();
        this.tookMs = this.at - now;
        this.failed = false;
        this.onDone();
      }, (e) => {
        this.failed = true;
        this.onError(e);
      }).finally(() => { this.flight = null; });
    }
    return this.flight ?? Promise.resolve();
  }

  forget(): void {
    this.value = null;
    this.at = null;
    this.started = null;
  }
}

interface QueueDb { db: number; refs: QueueRef[] }

/**
 * One deployment being exported: a connection kept open between scrapes
 * (opened again after a restart or failover), the cheap figures read at
 * every scrape, the walks refreshed in the background, and the exporter's
 * own figures. A scrape never waits past its deadline: whatever is late is
 * left out (its series go stale) and said once in the log.
 */
export class Scraper {
  private target: Target | null = null;
  private readonly dbTargets = new Map<number, Promise<Target>>();
  private opening: Promise<Target> | null = null;
  private readonly calls = new Map<string, SingleCall<unknown>>();
  private readonly errorsTotal = new Map<string, number>();
  private readonly durations = new Map<string, number>();
  private readonly success = new Map<string, number>();
  private readonly slowSeen = new Map<string, number>();
  private readonly slowCounts = new Map<string, number>();
  private readonly discovery: Refreshed<QueueDb[]>;
  private readonly workers: Refreshed<WorkersReport[]>;
  private readonly locks: Refreshed<LockCount[]>;
  private readonly keys: Refreshed<KeyStats>;
  private scrapes = 0;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(private readonly spec: ConnectionSpec, private readonly settings: ExporterSettings, private readonly problems: Problems, readonly label: string) {
    const bg = <T>(name: string, ms: number, fn: (t: Target) => Promise<T>) => new Refreshed<T>(ms, async () => fn(await this.connected()), (e) => this.failed(name, e), () => {
      this.success.set(name, 1);
      this.problems.clear(`${this.label} ${name}`);
    });
    this.discovery = bg('queues-discovery', settings.discoverMs, (t) => this.discoverQueues(t));
    this.workers = bg('workers', settings.refreshMs, (t) => this.readWorkers(t));
    this.locks = bg('locks', settings.refreshMs, (t) => this.readLocks(t));
    this.keys = bg('keys', settings.keys?.intervalMs ?? 0, (t) => this.walkPatterns(t));
  }

  /** Every family, within `timeoutMs`. */
  async scrape(timeoutMs: number): Promise<MetricFamily[]> {
    const started = process.hrtime.bigint();
    this.scrapes++;
    // One section per collector, written out in this order whatever finishes first.
    const server = new Families(), queues = new Families(), workers = new Families(), locks = new Families(), keys = new Families(), own = new Families();
    const timer = new AbortController();
    const deadline: Promise<typeof LATE> = sleep(timeoutMs, timer.signal).then(() => LATE);
    try {
      const t = await this.timed('connect', deadline, () => this.connected());
      if (t === null) {
        server.gauge('redis_ops_up', 'The node answered (1) or not (0) at this scrape.', { node: addressOf(this.spec) }, 0);
      } else {
        await Promise.all([
          this.timed('server', deadline, () => this.readServer(t, server)),
          this.queueFigures(t, queues, deadline),
          this.background(this.workers, 'workers', workers, deadline, (w) => workerFamilies(w, workers), this.settings.workers !== null && this.settings.queues !== null),
          this.background(this.locks, 'locks', locks, deadline, (l) => lockFamilies(l, locks), this.settings.locks !== null),
          this.background(this.keys, 'keys', keys, deadline, (k) => patternFamilies(k.groups.filter((g) => g.pattern !== '[other]'), keys), this.settings.keys !== null, false),
        ]);
      }
    } finally {
      timer.abort();
    }
    const f = new Families();
    this.own(own, Number(process.hrtime.bigint() - started) / 1e9);
    for (const section of [server, queues, workers, locks, keys, own]) f.addAll(section!.list());
    return f.list();
  }

  /** Runs one collector against the deadline; null (and counted, and logged once) when it failed or was late. */
  private async timed<T>(name: string, deadline: Promise<typeof LATE>, fn: () => Promise<T>): Promise<T | null> {
    let call = this.calls.get(name) as SingleCall<T> | undefined;
    if (!call) {
      call = new SingleCall<T>();
      this.calls.set(name, call as SingleCall<unknown>);
    }
    const t0 = process.hrtime.bigint();
    const running = call.run(fn);
    running.catch(() => undefined);
    try {
      const r = await Promise.race([running, deadline]);
      if (r === LATE) throw new Error(`no answer within the scrape timeout (${name})`);
      this.success.set(name, 1);
      this.problems.clear(`${this.label} ${name}`);
      return r as T;
    } catch (e) {
      this.failed(name, e);
      return null;
    } finally {
      this.durations.set(name, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }

  private failed(name: string, e: unknown): void {
    this.success.set(name, 0);
    this.errorsTotal.set(name, (this.errorsTotal.get(name) ?? 0) + 1);
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    this.problems.report(`${this.label} ${name}`, `${this.label}: ${name}: ${message}`);
    // A connection that ended (server restart, failover) is opened again at the next scrape.
    if (this.target && isGone(this.target)) this.dropConnection();
  }

  /** The open connection, or a new one (after a restart, a failover, or at start). */
  private connected(): Promise<Target> {
    if (this.target && !isGone(this.target)) return Promise.resolve(this.target);
    if (this.target) this.dropConnection();
    this.opening ??= openTarget(this.spec, { purpose: 'exporter' }).then((t) => {
      if (this.closed) {
        void t.close();
        throw new Error('exporter is stopping');
      }
      this.target = t;
      return t;
    }).finally(() => { this.opening = null; });
    return this.opening;
  }

  private dropConnection(): void {
    const t = this.target;
    this.target = null;
    if (t) void t.close();
    for (const p of this.dbTargets.values()) void p.then((x) => x.close(), () => undefined);
    this.dbTargets.clear();
    // Queues are found again on the new connection (a failover may have lost some).
    this.discovery.forget();
  }

  private forDb(t: Target, db: number): Promise<Target> {
    if (db === t.db) return Promise.resolve(t);
    let p = this.dbTargets.get(db);
    if (!p) {
      p = t.forDb(db);
      this.dbTargets.set(db, p);
      p.catch(() => this.dbTargets.delete(db));
    }
    return p;
  }

  private async readServer(t: Target, f: Families): Promise<void> {
    const { report, nodes, slowlog } = await inspectHealth(t, {
      thresholds: this.settings.thresholds, expectReplicas: this.settings.expectReplicas, readSlowlog: this.settings.slowlog, freshConnection: false,
    });
    nodeFamilies(nodes.map((n) => ({ node: n.address, role: n.role, up: n.reachable && n.error === null, info: n.info })), f);
    healthFamilies(report, f);
    if (this.settings.slowlog) this.countSlowlog(slowlog, f);
    // Behind Sentinel, a master that was demoted keeps our connection: find the new one.
    if (t.mode === 'sentinel' && nodes[0]?.info.role === 'slave') this.dropConnection();
  }

  /** Slowlog entries per command since the exporter started (ids restart with the server: counted again from 0). */
  private countSlowlog(entries: SlowlogEntry[], f: Families): void {
    const byNode = new Map<string, SlowlogEntry[]>();
    for (const e of entries) byNode.set(e.node, [...(byNode.get(e.node) ?? []), e]);
    for (const [node, list] of byNode) {
      const newest = Math.max(...list.map((e) => e.id));
      const seen = this.slowSeen.get(node);
      if (seen !== undefined) {
        const from = newest < seen ? -1 : seen;
        for (const e of list) {
          if (e.id > from && !e.self) this.slowCounts.set(`${node}\n${e.command}`, (this.slowCounts.get(`${node}\n${e.command}`) ?? 0) + 1);
        }
      }
      this.slowSeen.set(node, newest);
    }
    const help = 'Slowlog entries per command since the exporter started (the exporter\'s own commands left out).';
    f.family('redis_ops_slowlog_entries_total', 'counter', help);
    for (const [id, n] of this.slowCounts) {
      const [node, command] = id.split('\n');
      f.counter('redis_ops_slowlog_entries_total', help, { node: node!, command: command! }, n);
    }
  }

  private async queueFigures(t: Target, f: Families, deadline: Promise<typeof LATE>): Promise<void> {
    if (!this.settings.queues) return;
    // The first scrape waits (within its deadline) for the queues to be found.
    const found = this.discovery.kick();
    if (this.discovery.value === null) await Promise.race([found, deadline]);
    const dbs = this.discovery.value;
    if (dbs === null) return;
    const now = Date.now();
    const counts = await this.timed('queues', deadline, async () => (await Promise.all(dbs.map(async (q) => countQueues(await this.forDb(t, q.db), q.refs, now)))).flat());
    if (counts) queueFamilies(counts, f);
    f.gauge('redis_ops_queues_discovery_age_seconds', 'Seconds since the queues were last found (every --discover-interval).', {}, this.ageOf(this.discovery));
  }

  /**
   * A walked figure from its last result, with that walk's age and length
   * (`redis_ops_keys_walk_age_seconds`, …). The first scrape waits for the
   * first result within its deadline, unless it is the long key walk.
   */
  private async background<T>(r: Refreshed<T>, name: string, f: Families, deadline: Promise<typeof LATE>, emit: (v: T) => void, enabled: boolean, waitFirst = true): Promise<void> {
    if (!enabled) return;
    const p = r.kick();
    if (r.value === null && waitFirst) await Promise.race([p, deadline]);
    if (r.value === null) return;
    emit(r.value);
    f.gauge(`redis_ops_${name}_walk_age_seconds`, `Seconds since the ${name} walk last finished (the figures are from then).`, {}, this.ageOf(r));
    f.gauge(`redis_ops_${name}_walk_duration_seconds`, `How long the last ${name} walk took.`, {}, r.tookMs === null ? null : r.tookMs / 1000);
  }

  private ageOf(r: Refreshed<unknown>): number | null {
    return r.at === null ? null : (Date.now() - r.at) / 1000;
  }

  private async discoverQueues(t: Target): Promise<QueueDb[]> {
    const q = this.settings.queues!;
    const dbs = await databasesToWalk(t, q.allDbs, () => undefined);
    return findQueues(t, { dbs, declared: q.declared, discover: q.discover, names: [], signal: this.abort.signal }, async (_t, refs, db) => ({ db, refs }));
  }

  private async readWorkers(t: Target): Promise<WorkersReport[]> {
    await this.discovery.kick();
    const dbs = this.discovery.value ?? [];
    const w = this.settings.workers!;
    return Promise.all(dbs.map(async (q) => collectWorkers(await this.forDb(t, q.db), q.db, q.refs, { staleAfterMs: w.staleAfterMs, heartbeats: w.heartbeats, signal: this.abort.signal })));
  }

  /**
   * One walk per pattern, filtered by the server (SCAN MATCH): a walk that
   * brought every key back to be matched here would allocate the whole
   * keyspace's names at every refresh.
   */
  private async readLocks(t: Target): Promise<LockCount[]> {
    const l = this.settings.locks!;
    const dbs = await databasesToWalk(t, this.settings.queues?.allDbs ?? false, () => undefined);
    const counts: LockCount[] = [];
    for (const pattern of l.patterns) {
      const per = new Map(dbs.map((db) => [db, { pattern, db, count: 0, stale: 0 }]));
      await eachLock(t, { patterns: [pattern], dbs, staleAfterMs: l.staleAfterMs, maxTtlMs: l.maxTtlMs, readValues: false, rate: this.settings.walkRate, signal: this.abort.signal }, (lock) => {
        const c = per.get(lock.db)!;
        c.count++;
        if (lock.stale) c.stale++;
      });
      counts.push(...per.values());
    }
    return counts;
  }

  private async walkPatterns(t: Target): Promise<KeyStats> {
    const k = this.settings.keys!;
    const dbs = await databasesToWalk(t, this.settings.queues?.allDbs ?? false, () => undefined);
    return collectKeyStats(t, {
      dbs, count: 1000, top: 1, groups: k.groups, separator: k.separator, depth: k.depth, lengths: false, rate: this.settings.walkRate, signal: this.abort.signal,
    });
  }

  private own(f: Families, seconds: number): void {
    f.gauge('redis_ops_exporter_scrape_duration_seconds', 'How long this scrape took.', {}, seconds);
    f.counter('redis_ops_exporter_scrapes_total', 'Scrapes of this target since the exporter started.', {}, this.scrapes);
    for (const [name, v] of this.durations) f.gauge('redis_ops_exporter_collector_duration_seconds', 'How long a collector took at this scrape (or waited, when late).', { collector: name }, v);
    for (const [name, v] of this.success) f.gauge('redis_ops_exporter_collector_success', 'The collector\'s last run succeeded (1) or failed or was late (0).', { collector: name }, v);
    f.family('redis_ops_exporter_collector_errors_total', 'counter', 'Failed or late runs per collector.');
    for (const [name, v] of this.errorsTotal) f.counter('redis_ops_exporter_collector_errors_total', 'Failed or late runs per collector.', { collector: name }, v);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    const t = this.target ?? (this.opening ? await this.opening.catch(() => null) : null);
    this.target = null;
    for (const p of this.dbTargets.values()) await p.then((x) => x.close(), () => undefined);
    if (t) await t.close();
  }
}

function isGone(t: Target): boolean {
  const status = (t.client as unknown as { status: string }).status;
  return status === 'end' || status === 'close';
}
