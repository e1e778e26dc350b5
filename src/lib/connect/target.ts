import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { PermissionError, UsageError } from '../../errors.js';
import { loadDriver } from './driver.js';
import { addressOf, type ConnectionSpec } from './spec.js';
import { translateRedisError } from './translate.js';

/** One master (or the standalone server) with its own connection, for per-node walks. */
export interface NodeHandle {
  address: string;
  client: Redis;
}

export type TopologyMode = 'standalone' | 'cluster' | 'sentinel';

/**
 * The one client interface above connectors: commands and lib code use
 * `client` for keyed commands (routed by slot in a cluster) and `masters()`
 * for per-node work, and never branch on how the deployment is built.
 */
export interface Target {
  readonly mode: TopologyMode;
  /** host:port of what the user pointed at; never contains a password. */
  readonly address: string;
  readonly client: Redis | Cluster;
  readonly db: number;
  readonly serverVersion: string | null;
  readonly spec: ConnectionSpec;
  masters(): NodeHandle[];
  /** The master that holds a key (its slot's master on a cluster). */
  nodeFor(key: string | Buffer): NodeHandle;
  /** A key's hash slot on a cluster; 0 for every key elsewhere (one "slot": any keys may share a script). */
  slotOf(key: string | Buffer): number;
  /** Whether one script (or one multi-key command) may touch all these keys. */
  sameSlot(...keys: (string | Buffer)[]): boolean;
  /** The same deployment, another logical database (a new connection; close it when done). Not for clusters. */
  forDb(db: number): Promise<Target>;
  /** A separate connection to one node, with this target's auth and TLS (for per-node reports). */
  connectNode(host: string, port: number): Promise<Redis>;
  /** How long the first command (INFO) took to be answered: a server that stalled then answered shows it here. */
  readonly firstAnswerMs: number | null;
  /** Turns a driver error into a typed one naming this target. */
  fail(err: unknown): Error;
  /** The same, naming the node it happened on (a cluster node, not the one we were pointed at). */
  failAt(node: string, err: unknown): Error;
  close(): Promise<void>;
}

export const CONNECTION_NAME = 'redis-ops';

export interface OpenOptions {
  /** Suffix for CLIENT SETNAME, e.g. "keys-scan": the connection is named redis-ops:keys-scan. */
  purpose?: string;
  /** Called when a TCP connection to the target is made (health tells "no answer" from "no connection"). */
  onConnect?: () => void;
}

export async function openTarget(spec: ConnectionSpec, opts: OpenOptions = {}): Promise<Target> {
  const forDb = (db: number) => {
    if (db === spec.db) return openTarget(spec, opts);
    return openTarget({ ...spec, db }, opts);
  };
  const { Redis: IORedis, Cluster: IOCluster } = await loadDriver();
  const name = opts.purpose ? `${CONNECTION_NAME}:${opts.purpose}` : CONNECTION_NAME;
  const address = addressOf(spec);
  const errorCtx = { address, user: spec.user, timeoutMs: spec.timeoutMs, tls: spec.tls !== null, lastEvent: undefined as Error | undefined, answered: false };
  const base: RedisOptions = {
    username: spec.user,
    password: spec.password,
    db: spec.db,
    tls: spec.tls ?? undefined,
    connectionName: name,
    connectTimeout: spec.timeoutMs,
    commandTimeout: spec.timeoutMs,
    lazyConnect: true,
    // A CLI makes one attempt and reports; it does not reconnect forever.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    // Our own INFO call replaces the ready check, which warns on stdout when INFO is not allowed.
    enableReadyCheck: false,
    // CLIENT SETINFO is unknown before Redis 7.2: each connection would add two
    // errors to the server's errorstats, which monitoring alerts on. The
    // connection name says who we are.
    disableClientInfo: true,
  };

  /** Connects one client; failures become typed errors naming `ctx.address`. */
  const connectClient = async (options: RedisOptions, ctx: typeof errorCtx): Promise<Redis> => {
    const client = new IORedis(options);
    client.on('error', (e: Error) => { ctx.lastEvent = e; });
    if (opts.onConnect) client.once('connect', opts.onConnect);
    client.once('connect', onTcp);
    try {
      await client.connect();
      // ioredis's own SELECT on connect fails quietly and leaves the connection
      // in database 0: working on the wrong database must not happen.
      if (options.db) await client.select(options.db);
    } catch (e) {
      client.disconnect();
      throw translateRedisError(e, ctx);
    }
    return client;
  };
  const connectStandalone = (options: RedisOptions) => connectClient(options, errorCtx);
  const connectNode = (host: string, port: number) =>
    connectClient({ ...base, host, port, db: 0 }, { ...errorCtx, address: `${host}:${port}`, lastEvent: undefined, answered: false });

  // The first answer's wall time counts from the TCP connection: ioredis
  // sends CLIENT SETNAME as it connects, so a stalled server stalls it there
  // (the handshake itself, and our own start-up, are not the server's time).
  let tcpAt: bigint | null = null;
  const onTcp = () => { tcpAt ??= process.hrtime.bigint(); };
  const sinceStart = (info: ServerInfo): ServerInfo => ({ ...info, answerMs: info.answerMs === null || tcpAt === null ? null : Number(process.hrtime.bigint() - tcpAt) / 1e6 });
  if (spec.mode === 'sentinel') {
    const client = await connectStandalone({
      ...base,
      sentinels: spec.sentinels,
      name: spec.masterName,
      role: 'master',
      sentinelRetryStrategy: () => null,
      sentinelMaxConnections: 3,
      sentinelCommandTimeout: spec.timeoutMs,
    } as RedisOptions);
    const info = sinceStart(await serverInfo(client, errorCtx));
    errorCtx.answered = true;
    return makeStandaloneTarget('sentinel', client, spec, address, info, errorCtx, connectNode, forDb);
  }

  // Database 0 until the topology is known: a cluster node refuses SELECT.
  const first = await connectStandalone({ ...base, host: spec.host, port: spec.port, db: 0 });
  const info = sinceStart(await serverInfo(first, errorCtx));
  errorCtx.answered = true;
  if (info.mode === 'sentinel') {
    first.disconnect();
    throw new UsageError(`${address} is a Sentinel, not a data node: use --sentinel ${address} --master-name NAME`);
  }
  const isCluster = spec.mode === 'cluster' || info.mode === 'cluster';
  if (!isCluster) {
    if (spec.db) {
      try {
        await first.select(spec.db);
        // Reconnections (there are none: retryStrategy) would select it too.
        first.options.db = spec.db;
      } catch (e) {
        first.disconnect();
        throw translateRedisError(e, errorCtx);
      }
    }
    return makeStandaloneTarget('standalone', first, spec, address, info, errorCtx, connectNode, forDb);
  }
  first.disconnect();
  if (spec.db !== 0) throw new UsageError(`${address} is a cluster, which has only database 0 (got --db ${spec.db})`);

  const cluster = new IOCluster([{ host: spec.host, port: spec.port }], {
    redisOptions: { ...base, db: 0 },
    lazyConnect: true,
    enableReadyCheck: false,
    clusterRetryStrategy: () => null,
    maxRedirections: 8,
    slotsRefreshTimeout: spec.timeoutMs,
    // Cluster nodes announce internal addresses; keep TLS server names working for them.
    dnsLookup: (host, cb) => cb(null, host),
  });
  cluster.on('error', (e: Error) => { errorCtx.lastEvent = e; });
  cluster.on('node error', (e: Error) => { errorCtx.lastEvent = e; });
  try {
    await cluster.connect();
  } catch (e) {
    cluster.disconnect();
    throw translateRedisError(e, errorCtx);
  }
  return {
    mode: 'cluster',
    address,
    client: cluster,
    db: 0,
    serverVersion: info.version,
    firstAnswerMs: info.answerMs,
    spec,
    masters: () => cluster.nodes('master').map((n) => ({ address: `${n.options.host}:${n.options.port}`, client: n })),
    slotOf: (key) => calculateSlot(key),
    nodeFor: (key) => {
      const owner = (cluster as unknown as { slots: string[][] }).slots[calculateSlot(key)]?.[0];
      const masters = cluster.nodes('master');
      const n = masters.find((m) => `${m.options.host}:${m.options.port}` === owner) ?? masters[0]!;
      return { address: `${n.options.host}:${n.options.port}`, client: n };
    },
    sameSlot: (...keys) => new Set(keys.map((k) => calculateSlot(k))).size <= 1,
    forDb: async (db) => {
      if (db !== 0) throw new UsageError(`${address} is a cluster, which has only database 0`);
      return openTarget(spec, opts);
    },
    connectNode,
    fail: (err) => translateRedisError(err, errorCtx),
    failAt: (node, err) => translateRedisError(err, { ...errorCtx, address: node, lastEvent: undefined }),
    close: async () => { await quietly(() => cluster.quit()); cluster.disconnect(); },
  };
}

function makeStandaloneTarget(
  mode: TopologyMode, client: Redis, spec: ConnectionSpec, address: string, info: ServerInfo,
  errorCtx: Parameters<typeof translateRedisError>[1], connectNode: Target['connectNode'], forDb: Target['forDb'],
): Target {
  // Behind Sentinel, the master's address is known only from the socket.
  const stream = (client as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  const nodeAddress = mode === 'sentinel' && stream?.remoteAddress ? `${stream.remoteAddress.replace(/^::ffff:/, '')}:${stream.remotePort}` : address;
  return {
    mode,
    address,
    client,
    db: spec.db,
    serverVersion: info.version,
    firstAnswerMs: info.answerMs,
    spec,
    masters: () => [{ address: nodeAddress, client }],
    slotOf: () => 0,
    nodeFor: () => ({ address: nodeAddress, client }),
    sameSlot: () => true,
    forDb,
    connectNode,
    fail: (err) => translateRedisError(err, errorCtx),
    failAt: (node, err) => translateRedisError(err, { ...errorCtx, address: node, lastEvent: undefined }),
    close: async () => { await quietly(() => client.quit()); client.disconnect(); },
  };
}

interface ServerInfo {
  version: string | null;
  mode: string;
  /** Wall time from the connect to the INFO answer; null when INFO was not allowed. */
  answerMs: number | null;
}

async function serverInfo(client: Redis, errorCtx: Parameters<typeof translateRedisError>[1]): Promise<ServerInfo> {
  try {
    const text = await client.info('server');
    return {
      version: /redis_version:(\S+)/.exec(text)?.[1] ?? null,
      mode: /redis_mode:(\S+)/.exec(text)?.[1] ?? 'standalone',
      answerMs: 0, // set by the caller, from the connect
    };
  } catch (e) {
    const err = translateRedisError(e, errorCtx);
    // An ACL user without INFO can still do useful work; anything else is fatal.
    if (err instanceof PermissionError) return { version: null, mode: 'standalone', answerMs: null };
    client.disconnect();
    throw err;
  }
}

async function quietly(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch {
    /* closing: nothing useful to report */
  }
}

/**
 * Asks every master not to touch idle times or LFU counters for what this
 * connection reads (CLIENT NO-TOUCH, Redis 7.2+): a report must not make
 * every key look freshly used. Returns whether the server has it.
 */
export async function keepIdleTimes(target: Target): Promise<boolean> {
  if (!versionAtLeast(target.serverVersion, '7.2.0')) return false;
  await Promise.all(target.masters().map((n) => n.client.call('CLIENT', 'NO-TOUCH', 'ON').catch(() => undefined)));
  return true;
}

/** Compares dotted versions: true when `version` ≥ `min`. Unknown versions are treated as old. */
export function versionAtLeast(version: string | null, min: string): boolean {
  if (!version) return false;
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}
