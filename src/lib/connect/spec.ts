import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { ProfileConfig, RedisOpsConfig } from '../config.js';
import { parseDuration } from '../duration.js';

/** Everything needed to open a connection; resolved once from flags, env and profile. */
export interface ConnectionSpec {
  host: string;
  port: number;
  db: number;
  user?: string;
  password?: string;
  tls: TlsSpec | null;
  mode: 'auto' | 'cluster' | 'sentinel';
  sentinels: { host: string; port: number }[];
  masterName?: string;
  timeoutMs: number;
}

/** How a deployment is named in messages and labels: host:port, or master@sentinels. Never a password. */
export function addressOf(spec: ConnectionSpec): string {
  return spec.mode === 'sentinel'
    ? `${spec.masterName}@${spec.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
    : `${spec.host}:${spec.port}`;
}

export interface TlsSpec {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** The connection flags as Commander parses them (every leaf command has them). */
import type { ConnectionFlags } from './fields.js';

export type { ConnectionFlags };

interface Layer {
  host?: string; port?: number; db?: number; user?: string; password?: string;
  tls?: boolean; cacert?: string; cert?: string; key?: string; insecure?: boolean;
  cluster?: boolean; sentinel?: string; masterName?: string; timeoutMs?: number;
}

export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  config: RedisOpsConfig;
  warn: (message: string) => void;
  askPassword?: () => Promise<string>;
}

/**
 * Layers, lowest first: defaults, the config's defaultProfile, the
 * environment, a profile named with --profile, the other flags. (A profile
 * asked for by name beats a REDIS_URL left in the environment; a default one
 * does not.) A URL expands into fields of the layer it came from.
 *
 * An explicit --url or --host names a new target and replaces the whole
 * default one: nothing of REDIS_URL or of a profile (password, user, port,
 * db, TLS) is carried over to another host. Only REDISCLI_AUTH and
 * REDIS_PASSWORD, which name no host, still apply (as in redis-cli).
 */
export async function resolveConnection(flags: ConnectionFlags, ctx: ResolveContext): Promise<ConnectionSpec> {
  const explicitTarget = flags.url !== undefined || flags.host !== undefined;
  if (explicitTarget && flags.profile !== undefined) {
    throw new UsageError(`--profile ${flags.profile} names a target and ${flags.url !== undefined ? '--url' : '--host'} names another: give one of them`);
  }
  const layers: Layer[] = [];
  if (!explicitTarget && !flags.profile && ctx.config.defaultProfile) layers.push(profileLayer(ctx.config.defaultProfile, ctx));

  const envLayer: Layer = {};
  if (ctx.env.REDIS_URL && !explicitTarget) Object.assign(envLayer, parseRedisUrl(ctx.env.REDIS_URL, 'REDIS_URL'));
  const envPassword = ctx.env.REDISCLI_AUTH || ctx.env.REDIS_PASSWORD;
  if (envPassword) envLayer.password = envPassword;
  layers.push(envLayer);
  if (flags.profile) layers.push(profileLayer(flags.profile, ctx));

  const flagLayer: Layer = {};
  if (flags.url !== undefined) {
    const u = parseRedisUrl(flags.url, '--url');
    if (u.password) ctx.warn('Warning: a password in --url is visible to other users in the process list; prefer REDISCLI_AUTH or --password-file.');
    Object.assign(flagLayer, u);
  }
  if (flags.host !== undefined) flagLayer.host = nonBlank(flags.host, '--host');
  if (flags.port !== undefined) flagLayer.port = parsePort(flags.port, '--port');
  if (flags.db !== undefined) flagLayer.db = parseDb(flags.db, '--db');
  if (flags.user !== undefined) flagLayer.user = flags.user;
  if (flags.password !== undefined) {
    ctx.warn('Warning: using a password with -a/--password on the command line may not be safe (it is visible in ps); prefer REDISCLI_AUTH or --password-file.');
    flagLayer.password = flags.password;
  }
  if (flags.passwordFile !== undefined) flagLayer.password = readPasswordFile(flags.passwordFile, '--password-file');
  if (flags.tls) flagLayer.tls = true;
  if (flags.cacert !== undefined) flagLayer.cacert = flags.cacert;
  if (flags.cert !== undefined) flagLayer.cert = flags.cert;
  if (flags.key !== undefined) flagLayer.key = flags.key;
  if (flags.insecure) flagLayer.insecure = true;
  if (flags.cluster) flagLayer.cluster = true;
  if (flags.sentinel !== undefined) flagLayer.sentinel = flags.sentinel;
  if (flags.masterName !== undefined) flagLayer.masterName = flags.masterName;
  // 0 would mean "wait for ever" to the driver: never what a timeout flag means.
  if (flags.timeout !== undefined) flagLayer.timeoutMs = parseDuration(flags.timeout, '--timeout', { minMs: 1 });
  layers.push(flagLayer);

  const m: Layer = Object.assign({}, ...layers.map(stripUndefined));
  if (flags.askpass) {
    if (!ctx.askPassword) throw new UsageError('--askpass needs a terminal to ask on');
    m.password = await ctx.askPassword();
  }

  if (m.sentinel && m.cluster) throw new UsageError('--sentinel and --cluster cannot be combined');
  const sentinels = m.sentinel ? parseHostList(m.sentinel, '--sentinel') : [];
  if (sentinels.length && !m.masterName) throw new UsageError('--sentinel needs --master-name (the name the sentinels monitor)');
  if (m.masterName && !sentinels.length) throw new UsageError('--master-name needs --sentinel host:port[,host:port…]');

  const wantsTls = m.tls || m.cacert !== undefined || m.cert !== undefined || m.key !== undefined || m.insecure;
  const host = m.host ?? '127.0.0.1';
  return {
    host,
    port: m.port ?? 6379,
    db: m.db ?? 0,
    user: m.user,
    password: m.password,
    tls: wantsTls
      ? {
          ca: m.cacert ? readPem(m.cacert, '--cacert') : undefined,
          cert: m.cert ? readPem(m.cert, '--cert') : undefined,
          key: m.key ? readPem(m.key, '--key') : undefined,
          rejectUnauthorized: !m.insecure,
          servername: isIp(host) ? undefined : host,
        }
      : null,
    mode: sentinels.length ? 'sentinel' : m.cluster ? 'cluster' : 'auto',
    sentinels,
    masterName: m.masterName,
    timeoutMs: m.timeoutMs ?? 10_000,
  };
}

function profileLayer(name: string, ctx: ResolveContext): Layer {
  // Own properties only: "constructor" or "__proto__" is no profile.
  const p: ProfileConfig | undefined = Object.hasOwn(ctx.config.profiles, name) ? ctx.config.profiles[name] : undefined;
  if (!p) {
    const where = ctx.config.path ? `in ${ctx.config.path}` : '(no config file found: --config, REDIS_OPS_CONFIG, ./redis-ops.json or $XDG_CONFIG_HOME/redis-ops/config.json)';
    const known = Object.keys(ctx.config.profiles);
    throw new UsageError(`profile "${name}" not found ${where}${known.length ? `; known: ${known.join(', ')}` : ''}`);
  }
  const file = ctx.config.path ?? 'config';
  const layer: Layer = p.url ? parseRedisUrl(p.url, `profiles.${name}.url in ${file}`) : {};
  const direct: Layer = {
    host: p.host, port: p.port, db: p.db, user: p.user, tls: p.tls, cacert: p.cacert, cert: p.cert,
    key: p.key, insecure: p.insecure, cluster: p.cluster, sentinel: p.sentinel, masterName: p.masterName,
    timeoutMs: p.timeout !== undefined ? parseDuration(p.timeout, `profiles.${name}.timeout in ${file}`, { minMs: 1 }) : undefined,
  };
  Object.assign(layer, stripUndefined(direct));
  if (p.password !== undefined) layer.password = p.password;
  if (p.passwordEnv !== undefined) {
    const v = ctx.env[p.passwordEnv];
    if (v === undefined) throw new UsageError(`profiles.${name}.passwordEnv in ${file}: environment variable ${p.passwordEnv} is not set`);
    layer.password = v;
  }
  if (p.passwordFile !== undefined) layer.password = readPasswordFile(p.passwordFile, `profiles.${name}.passwordFile in ${file}`);
  return layer;
}

export function parseRedisUrl(text: string, where: string): Layer {
  const shape = 'expected redis://[user:password@]host[:port][/db] or rediss://…';
  let u: URL;
  try {
    u = new URL(nonBlank(text, where));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${where}: not a URL (${shape})`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(`${where}: scheme must be redis:// or rediss://, not ${u.protocol}//`);
  }
  if (!u.hostname) throw new UsageError(`${where}: the URL names no host (${shape})`);
  // Other tools take ?db=N or ?password=…; silently ignoring them would reach the wrong database.
  if (u.search || u.hash) throw new UsageError(`${where}: query parameters and fragments are not supported (${shape}: the database is the path, /3)`);
  const layer: Layer = {};
  layer.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (u.port) layer.port = parsePort(u.port, where);
  if (u.username) layer.user = decodeUrlPart(u.username, where, 'user name');
  if (u.password) layer.password = decodeUrlPart(u.password, where, 'password');
  const path = u.pathname.replace(/^\//, '');
  if (path) layer.db = parseDb(path, `${where} (database in the path)`);
  if (u.protocol === 'rediss:') layer.tls = true;
  return layer;
}

function decodeUrlPart(text: string, where: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Never quote the part: it may be a password.
    throw new UsageError(`${where}: the ${what} has a malformed %-escape (write % as %25)`);
  }
}

/** Empty or blank is never "the default": an unset variable must not pick a target. */
function nonBlank(text: string, where: string): string {
  if (text.trim() === '') throw new UsageError(`${where} is empty (an unset variable?): nothing was done`);
  return text;
}

export function parseHostList(text: string, flag: string): { host: string; port: number }[] {
  return text.split(',').map((part) => {
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(part.trim());
    if (!m || !m[1]) throw new UsageError(`${flag}: "${part}" is not host:port`);
    return { host: m[1], port: m[2] ? parsePort(m[2], flag) : 26379 };
  });
}

function parsePort(text: string, where: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new UsageError(`${where}: port "${text}" must be a whole number from 1 to 65535`);
  return n;
}

function parseDb(text: string, where: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${where}: database "${text}" must be a whole number ≥ 0`);
  return Number(text);
}

function readPasswordFile(path: string, where: string): string {
  try {
    // A trailing newline is an editor's, not part of the password.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new UsageError(`${where}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
