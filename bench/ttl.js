// Issue 6 benchmarks: ttl cleanup --set-ttl and --delete over 1M keys of which
// 300k match (keys/s, with a concurrent PING probe), and --rate accuracy.
import { BIN, CLIENT_CPU, fmt, loadWithPipe, printTable, timeProcess, withPingProbe } from './lib.js';

function* keys(n, matching) {
  for (let i = 0; i < n; i++) {
    if (i % Math.round(n / matching) === 0) yield ['SET', `tmp:upload:${i}`, `{"created_at":"2026-11-01T10:00:00","i":${i}}`];
    else yield ['SET', `user:${i}:profile`, 'x'.repeat(40)];
  }
}

export async function benchTtl(startServer, { total = 1_000_000, matching = 300_000 } = {}) {
  const client = (args) => timeProcess('taskset', ['-c', CLIENT_CPU, process.execPath, BIN, ...args], { stdout: 'pipe' });
  const rows = [];
  for (const action of [['--set-ttl', '1h'], ['--delete']]) {
    const server = await startServer();
    await loadWithPipe(server.port, keys(total, matching));
    const r = await withPingProbe(server.port, () => client(['ttl', 'cleanup', 'tmp:*', ...action, '--no-ttl', '--url', server.url, '--yes', '--json']));
    const summary = JSON.parse(r.result.out);
    rows.push([`ttl cleanup ${action.join(' ')}`, fmt(summary.scanned), fmt(summary.changed), fmt(r.result.ms / 1000, 2), fmt(summary.changed / (r.result.ms / 1000)),
      fmt(r.ping.maxMs, 2), fmt(r.ping.p99Ms, 2), fmt(r.longestCommandMs, 2)]);
    await server.stop();
  }
  printTable(`ttl cleanup (${fmt(total)} keys, ${fmt(matching)} matching)`, ['run', 'scanned', 'changed', 'wall s', 'changed/s', 'worst PING ms', 'p99 PING ms', 'longest command ms'], rows);

  const server = await startServer();
  await loadWithPipe(server.port, keys(200_000, 50_000));
  const rate = 10_000;
  const t = await client(['ttl', 'cleanup', 'tmp:*', '--set-ttl', '1h', '--rate', String(rate), '--url', server.url, '--yes', '--json']);
  const s = JSON.parse(t.out);
  const achieved = s.changed / (s.durationMs / 1000);
  printTable('--rate', ['asked', 'changed', 'seconds', 'achieved/s', 'off by'], [[fmt(rate), fmt(s.changed), fmt(s.durationMs / 1000, 2), fmt(achieved), `${fmt(((achieved - rate) / rate) * 100, 1)}%`]]);
  await server.stop();
}
