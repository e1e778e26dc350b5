import type { Command } from 'commander';
import { ConnectionError, ExitCode, NoAnswerError, RedisOpsError, UsageError } from '../errors.js';
import type { ConnectionSpec } from '../lib/connect/spec.js';
import { parseDuration, parsePositiveInt } from '../lib/duration.js';
import type { HealthReport } from '../lib/health/collect.js';
import { jsonText } from '../output/output.js';
import { addConnectionOptions, outputFor, runWithTarget, type RunContext } from './context.js';
import { setExitCode } from './io.js';

interface HealthFlags {
  all?: boolean;
  verbose?: boolean;
  json?: boolean;
  format: string;
  promFile?: string;
  html?: string;
  watch?: string;
  failOn: string;
  only?: string;
  skip?: string;
  threshold: string[];
  expectReplicas?: string;
  slowlogState?: string;
}

/** Commander rejects bad arguments before our code runs; for health they are UNKNOWN (3), as Nagios expects. */
export const USAGE_EXIT_OVERRIDES: Record<string, number> = { health: 3 };

const collect = (v: string, acc: string[]) => [...acc, v];

export function registerHealth(program: Command): void {
  addConnectionOptions(
    program.command('health')
      .description('check every node: memory, persistence, replication, cluster, clients… (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)')
      .option('--format <format>', 'table, json or nagios', 'table')
      .option('--all', 'table: list every check (by default, a line per node and the checks that are not OK)')
      .option('-v, --verbose', 'the same as --all')
      .option('--prom-file <path>', 'also write Prometheus text format to PATH (atomically), for node_exporter')
      .option('--html <file>', 'also write a self-contained HTML report (every node and check, with status colours and thresholds)')
      .option('--watch <dur>', 'check again every DUR until Ctrl-C (refreshes in place on a terminal)')
      .option('--fail-on <level>', 'lowest status that makes the exit code non-zero: warn or crit', 'warn')
      .option('--only <checks>', 'only these checks (comma-separated)')
      .option('--skip <checks>', 'leave out these checks (comma-separated)')
      .option('--threshold <check.level=n>', 'override a threshold, e.g. memory.warn=80 or evictedKeys.warn=1 (repeatable; "none" disables)', collect, [])
      .option('--expect-replicas <n>', 'a master with fewer online replicas is CRITICAL')
      .option('--slowlog-state <file>', 'remember slowlog ids in FILE and check for new entries since the last run'),
  ).action(async (_f, cmd: Command) => {
    const f = cmd.opts<HealthFlags>();
    const format = f.json ? 'json' : f.format;
    // --timeout bounds the whole check (connect and every command), so a
    // monitoring system's own limit (NRPE: 10 s) never kills it first; with
    // --watch it bounds each command.
    const deadline = wholeRunDeadline(f.watch === undefined);
    try {
      if (!['table', 'json', 'nagios'].includes(format)) throw new UsageError(`--format: "${format}" is not table, json or nagios`);
      if (!['warn', 'crit'].includes(f.failOn)) throw new UsageError(`--fail-on: "${f.failOn}" is not warn or crit`);
      const run = runWithTarget(cmd, 'health', (ctx) => health(ctx, f, format), deadline.hooks);
      run.catch(() => undefined); // when the deadline wins, the run's own failure comes later and says nothing new
      await Promise.race([run, deadline.expired]);
    } catch (e) {
      // Connected but no answer: CRITICAL. Cannot connect, not Redis, bad
      // arguments: UNKNOWN (nothing could be checked). In the format the caller reads.
      const status = e instanceof NoAnswerError ? 'crit' : 'unknown';
      const out = outputFor(f, cmd);
      const message = (e instanceof RedisOpsError ? e.message : `${deadline.address}: ${e instanceof Error ? e.message : String(e)}`).split('\n')[0];
      if (format === 'json') await out.jsonDocument({ status, error: message, checks: [] });
      else if (format === 'nagios') await out.write(`REDIS ${status === 'crit' ? 'CRITICAL' : 'UNKNOWN'} - ${message!.replace(/\|/g, '/')}\n`);
      else out.error(message!);
      if (f.promFile) {
        const { writeFileAtomic } = await import('../lib/atomicFile.js');
        try {
          writeFileAtomic(f.promFile, `# HELP redis_ops_health_status Overall health: 0 ok, 1 warn, 2 crit, 3 unknown.\n# TYPE redis_ops_health_status gauge\nredis_ops_health_status ${status === 'crit' ? 2 : 3}\n`);
        } catch { /* the error above is the one to report */ }
      }
      setExitCode(cmd, status === 'crit' ? 2 : 3);
    } finally {
      deadline.clear();
    }
  });
}

/**
 * A timer over the whole run, started when the connection is resolved:
 * fails with NoAnswerError if a TCP connection was made (a stopped or hung
 * server), ConnectionError if not even that.
 */
function wholeRunDeadline(enabled: boolean) {
  let timer: NodeJS.Timeout | undefined;
  let connected = false;
  let address = '';
  let fire: (e: Error) => void = () => {};
  const expired = new Promise<never>((_, reject) => { fire = reject; });
  expired.catch(() => undefined);
  return {
    expired,
    get address() { return address; },
    hooks: {
      onResolved: (spec: ConnectionSpec) => {
        address = spec.mode === 'sentinel' ? `${spec.masterName}@${spec.sentinels.map((x) => `${x.host}:${x.port}`).join(',')}` : `${spec.host}:${spec.port}`;
        if (!enabled) return;
        const ms = spec.timeoutMs;
        timer = setTimeout(() => fire(connected
          ? new NoAnswerError(`${address} did not answer within ${ms} ms`)
          : new ConnectionError(`cannot connect to ${address} within ${ms} ms`)), ms);
      },
      onConnect: () => { connected = true; },
    },
    clear: () => clearTimeout(timer),
  };
}

async function health(ctx: RunContext, f: HealthFlags, format: string): Promise<number> {
  const { collectHealth } = await import('../lib/health/collect.js');
  const { resolveThresholds, validateCheckNames } = await import('../lib/health/thresholds.js');
  const { NAGIOS_EXIT, renderHealthTable, renderNagios, renderPrometheus } = await import('../output/render/health.js');
  const { loadTables } = await import('../output/table.js');
  const cfg = ctx.config.sections.health;
  const list = (s: string | undefined, flag: string) => (s === undefined ? undefined : validateCheckNames(s.split(',').map((x) => x.trim()).filter(Boolean), flag));
  const opts = {
    thresholds: resolveThresholds(cfg, f.threshold),
    expectReplicas: f.expectReplicas !== undefined ? parsePositiveInt(f.expectReplicas, '--expect-replicas', { allowZero: true }) : cfg?.expectReplicas,
    only: list(f.only, '--only') ?? cfg?.only,
    skip: list(f.skip, '--skip') ?? cfg?.skip,
    slowlogState: f.slowlogState,
  };
  // Each round is INFO and PING on every node: more often than once a second is load, not monitoring.
  const intervalMs = f.watch !== undefined ? parseDuration(f.watch, '--watch', { minMs: 1000 }) : null;
  if (format === 'table') await loadTables();
  const { out, target, signal } = ctx;
  let report: HealthReport;
  for (;;) {
    report = await collectHealth(target, opts);
    if (f.promFile) {
      const { writeFileAtomic } = await import('../lib/atomicFile.js');
      writeFileAtomic(f.promFile, renderPrometheus(report));
    }
    if (f.html) {
      const { writeFileAtomic } = await import('../lib/atomicFile.js');
      const { healthHtml } = await import('../output/html/reports.js');
      writeFileAtomic(f.html, healthHtml(report), 0o644, '--html');
    }
    const text = format === 'json'
      ? `${jsonText(report, intervalMs !== null ? undefined : 2)}\n`
      : format === 'nagios' ? renderNagios(report) : renderHealthTable(out, report, Boolean(f.all || f.verbose));
    if (intervalMs !== null && out.stdoutIsTTY && format === 'table') await out.redraw(text);
    else await out.write(text);
    if (intervalMs === null) break;
    const { sleep } = await import('../lib/pace.js');
    await sleep(intervalMs, signal);
    if (signal.aborted) break;
  }
  const code = NAGIOS_EXIT[report.status];
  if (f.failOn === 'crit' && report.status === 'warn') return ExitCode.ok;
  return code;
}
