import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/lib/sandbox/server.js';
import { startServer, type LocalServer } from '../helpers/redis.js';
import { until } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';

// A real Prometheus (Debian's) scrapes the exporter and evaluates the shipped
// alert rules; its query API must show the counts the queue systems' own
// clients report.
let server: LocalServer;
let exporter: RunningExporter;
let prometheus: ChildProcess;
let api: string;
let sidekiq: any;
let rq: any;
let prometheusLog = '';

beforeAll(async () => {
  server = await startServer();
  [sidekiq, rq] = await Promise.all([
    runPeer('ruby', 'sidekiq_fill.rb', [], { REDIS_URL: `${server.url}/1` }),
    runPeer('python', 'rq_fill.py', [`${server.url}/2`]),
  ]);
  exporter = await startExporter(['--url', server.url, '--all-dbs', '--no-keys']);
  const dir = mkdtempSync(join(tmpdir(), 'ro-prom-'));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${JSON.stringify(resolve('contrib/prometheus/alerts.yml'))}]`,
    'scrape_configs:',
    '  - job_name: redis-ops',
    `    static_configs: [{ targets: [${JSON.stringify(new URL(exporter.base).host)}] }]`,
  ].join('\n'));
  prometheus = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  prometheus.stderr!.on('data', (d) => { prometheusLog += String(d); });
}, 120_000);
afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await exporter?.stop();
  await server.stop();
});

async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => null);
  if (!r?.ok) return [];
  return ((await r.json()) as any).data.result;
}

it('Prometheus scrapes the exporter and finds the queue gauges with the counts Sidekiq and RQ report', async () => {
  let waiting: Awaited<ReturnType<typeof query>> = [];
  await until(async () => (waiting = await query('redis_ops_queue_waiting')).length >= 4, `Prometheus to scrape the queues (its log: ${prometheusLog.slice(-500)})`, 60_000);
  const value = (system: string, queue: string, rows = waiting) => Number(rows.find((r) => r.metric.system === system && r.metric.queue === queue)?.value[1]);
  expect(value('sidekiq', 'default')).toBe(sidekiq.queues.default.waiting);
  expect(value('sidekiq', 'mailers')).toBe(sidekiq.queues.mailers.waiting);
  expect(value('rq', 'high')).toBe(rq.queues.high.waiting);
  expect(value('rq', 'low')).toBe(rq.queues.low.waiting);
  const dead = await query('redis_ops_queue_dead');
  expect(value('sidekiq', 'default', dead)).toBe(sidekiq.queues.default.dead);
  const up = await query('up{job="redis-ops"}');
  expect(up.map((r) => r.value[1])).toEqual(['1']);
});

it('Prometheus loads the shipped alert rules and evaluates every one without error', async () => {
  let groups: any[] = [];
  await until(async () => {
    const r = await fetch(`${api}/api/v1/rules`).catch(() => null);
    groups = r?.ok ? ((await r.json()) as any).data.groups : [];
    return groups.length === 3 && groups.every((g) => g.rules.every((x: any) => x.lastEvaluation && !x.lastEvaluation.startsWith('0001')));
  }, 'the rules to be evaluated', 60_000);
  const rules = groups.flatMap((g) => g.rules);
  expect(rules.length).toBe(18);
  expect(rules.filter((x) => x.health !== 'ok').map((x) => `${x.name}: ${x.lastError}`)).toEqual([]);
});

it('every query of the Grafana dashboard is valid PromQL that a real Prometheus evaluates', async () => {
  const { readFileSync } = await import('node:fs');
  const dashboard = JSON.parse(readFileSync('contrib/grafana/redis-ops.json', 'utf8'));
  const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
  expect(exprs.length).toBeGreaterThan(18);
  for (const expr of exprs) {
    const q = expr.replace(/\$instance/g, '.*').replace(/\$__rate_interval/g, '1m');
    const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as any;
    expect(body.status, `${q}: ${body.error ?? ''}`).toBe('success');
  }
});
