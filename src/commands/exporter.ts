import { Option, type Command } from 'commander';
import { ExitCode, RedisOpsError, UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../lib/duration.js';
import type { ConnectionSpec } from '../lib/connect/spec.js';
import { DEFAULT_HEARTBEATS } from '../lib/queues/config.js';
import { addConnectionOptions, allDbsOption, runService, walkOption, type ServiceContext } from './context.js';

interface ExporterFlags {
  listen: string;
  scrapeTimeout: string;
  refreshInterval: string;
  discoverInterval: string;
  keysInterval: string;
  keysRate: string;
  keysGroups: string;
  separator: string;
  depth: string;
  keys: boolean;
  queues: boolean;
  slowlog: boolean;
  allDbs?: boolean;
  discover?: boolean;
  allowAnyTarget?: boolean;
}

export function registerExporter(program: Command): void {
  addConnectionOptions(
    program.command('exporter')
      .description('serve Prometheus metrics: server health and INFO per node, every queue system, workers, locks, key patterns, slowlog (GET /metrics, /probe?target=PROFILE, /healthz)')
      .option('--listen <host:port>', 'address to serve on (:PORT for every interface; port 0 picks a free one)', '127.0.0.1:9121')
      .option('--scrape-timeout <dur>', 'a scrape answers within this (or within the scraper\'s own timeout): what is late is left out', '10s')
      .option('--refresh-interval <dur>', 'how often workers and locks are read again (walks the server filters with MATCH)', '1m')
      .option('--discover-interval <dur>', 'how often queues are found again (a walk of every key unless the config file declares them)', '10m')
      .option('--keys-interval <dur>', 'how often the key-pattern walk runs again (its figures are served from the last walk)', '1h')
      .option('--keys-rate <n>', 'keys per second a background walk (key patterns, locks) reads, at most', '2000')
      .option('--keys-groups <n>', 'key patterns exported (the largest by bytes)', '50')
      .addOption(walkOption.separator())
      .addOption(walkOption.depth())
      .option('--no-keys', 'no key-pattern walk')
      .option('--no-queues', 'no queue, worker or lock figures')
      .option('--no-slowlog', 'no slowlog counter')
      .addOption(allDbsOption('(queues, locks and key patterns)'))
      .option('--discover', 'walk the keyspace for queues even when the config file declares some')
      .addOption(new Option('--allow-any-target', '/probe?target= may name any redis:// URL or host:port, not only a profile of the config file')),
    { dbShort: true },
  ).action(async (_f, cmd: Command) => {
    await runService(cmd, (ctx) => serve(ctx, cmd.opts<ExporterFlags>()));
  });
}

/** host:port, [v6]:port or :port (every interface). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UsageError(`--listen: "${text}" is not host:port (e.g. 127.0.0.1:9121, :9121, [::1]:9121)`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

async function serve(ctx: ServiceContext, f: ExporterFlags): Promise<number> {
  const { out, config, signal } = ctx;
  const listen = parseListen(f.listen);
  const scrapeTimeoutMs = parseDuration(f.scrapeTimeout, '--scrape-timeout', { minMs: 100, maxMs: 300_000 });
  const refreshMs = parseDuration(f.refreshInterval, '--refresh-interval', { minMs: 1000 });
  const discoverMs = parseDuration(f.discoverInterval, '--discover-interval', { minMs: 1000 });
  const keysIntervalMs = parseDuration(f.keysInterval, '--keys-interval', { minMs: 1000 });
  const keysRate = parsePositiveInt(f.keysRate, '--keys-rate');
  const keysGroups = parsePositiveInt(f.keysGroups, '--keys-groups');
  const depth = parsePositiveInt(f.depth, '--depth');
  const { resolveThresholds } = await import('../lib/health/thresholds.js');
  const { COMMON_LOCK_PATTERNS } = await import('../lib/locks/locks.js');
  const { Exporter } = await import('../lib/exporter/service.js');
  const { renderExposition, formatFor, CONTENT_TYPE } = await import('../output/prometheus.js');
  const locks = config.sections.locks ?? {};
  const workers = config.sections.workers;

  const exporter = new Exporter({
    spec: ctx.spec,
    settings: {
      thresholds: resolveThresholds(config.sections.health, []),
      queues: f.queues ? { declared: config.sections.queues ?? [], allDbs: Boolean(f.allDbs), discover: Boolean(f.discover) } : null,
      workers: { staleAfterMs: workers?.staleAfterMs ?? 60_000, heartbeats: workers?.heartbeats ?? DEFAULT_HEARTBEATS },
      locks: { patterns: locks.patterns ?? COMMON_LOCK_PATTERNS, staleAfterMs: locks.staleAfterMs ?? 600_000, maxTtlMs: locks.maxTtlMs },
      keys: f.keys ? { intervalMs: keysIntervalMs, groups: keysGroups, separator: f.separator, depth } : null,
      refreshMs,
      discoverMs,
      walkRate: keysRate,
      slowlog: f.slowlog,
    },
    scrapeTimeoutMs,
    resolveProbe: (name) => probeSpec(ctx, name, Boolean(f.allowAnyTarget)),
    render: (families, accept) => {
      const format = formatFor(accept);
      return { body: renderExposition(families, format), contentType: CONTENT_TYPE[format] };
    },
    // One line per problem, with the time: the exporter's log is read later.
    log: (line) => out.warn(`${new Date().toISOString()} ${line}`),
  });
  let bound: string;
  try {
    bound = await exporter.listen(listen.host, listen.port);
  } catch (e) {
    await exporter.close();
    throw new RedisOpsError(`cannot listen on ${f.listen}: ${(e as Error).message}`);
  }
  out.info(`${new Date().toISOString()} redis-ops exporter for ${exporterTarget(ctx.spec)} listening on http://${bound}/metrics`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await exporter.close();
  out.info(`${new Date().toISOString()} stopped`);
  return ExitCode.ok;
}

function exporterTarget(spec: ConnectionSpec): string {
  return spec.mode === 'sentinel' ? `${spec.masterName} via Sentinel` : `${spec.host}:${spec.port}${spec.db ? `/${spec.db}` : ''}`;
}

/** A probe target: a profile by name; any URL only when --allow-any-target says so. */
async function probeSpec(ctx: ServiceContext, name: string, anyTarget: boolean): Promise<ConnectionSpec> {
  if (Object.hasOwn(ctx.config.profiles, name)) return ctx.resolve({ profile: name });
  if (!anyTarget) throw new UsageError('that target is not a profile of the config file (--allow-any-target lets /probe reach any URL)');
  return ctx.resolve({ url: /^rediss?:\/\//.test(name) ? name : `redis://${name}` });
}
