// Issue 18 benchmark: `redis-ops exporter` next to redis_exporter (Debian's
// prometheus-redis-exporter) on the same 1M-key server with the same 20
// queues: scrape wall time (median, p99 over 200 scrapes), CPU seconds per
// scrape, RSS after 1,000 and 10,000 scrapes, and what each reports for the
// queues. Both exporters run pinned to the client CPU; scrapes are sequential
// over one keep-alive connection, as Prometheus does.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, CLIENT_CPU, fmt, loadWithPipe, median, mixedKeys, printTable } from './lib.js';

const QUEUES = 20;
const JOBS = 1000;
const job = (q, i) => JSON.stringify({ request_id: `q${q}-${i}`, text: 'xin chào', timestamp: '2026-11-22T10:00:00.123456' });

function* queueData() {
  for (let q = 0; q < QUEUES; q++) {
    yield ['LPUSH', `jobs_${q}_queue`, ...Array.from({ length: JOBS }, (_, j) => job(q, j))];
    yield ['LPUSH', `jobs_${q}_retry_queue`, job(q, -1)];
    yield ['LPUSH', `jobs_${q}_dead_letter_queue`, job(q, -2)];
  }
}

const TICKS = 100; // USER_HZ
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}
function rssBytes(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function startPinned(cmd, args, ready) {
  const child = spawn('taskset', ['-c', CLIENT_CPU, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const end = Date.now() + 30_000;
  while (!ready(err)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`${cmd} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, err: () => err };
}

async function measure(name, url, pid) {
  const scrape = async () => {
    const t0 = process.hrtime.bigint();
    const r = await fetch(url);
    const text = await r.text();
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, text };
  };
  for (let i = 0; i < 10; i++) await scrape(); // warm-up: connections, first walks
  const cpu0 = cpuSeconds(pid);
  const times = [];
  let last = '';
  for (let i = 0; i < 200; i++) {
    const s = await scrape();
    times.push(s.ms);
    last = s.text;
  }
  const cpuPerScrape = (cpuSeconds(pid) - cpu0) / 200;
  for (let i = 210; i < 1000; i++) await scrape();
  const rss1k = rssBytes(pid);
  for (let i = 1000; i < 10_000; i++) await scrape();
  const rss10k = rssBytes(pid);
  return { name, median: median(times), p99: pct(times, 0.99), cpuPerScrape, rss1k, rss10k, text: last };
}

const sumOf = (text, re) => text.split('\n').filter((l) => re.test(l)).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
const families = (text, prefix) => new Set(text.split('\n').filter((l) => l.startsWith(`# TYPE ${prefix}`))).size;

export async function benchExporter(startServer, { total = 1_000_000 } = {}) {
  const server = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'ro-bench-exp-'));
  try {
    await loadWithPipe(server.port, mixedKeys(total - QUEUES * 3));
    await loadWithPipe(server.port, queueData());
    const config = join(dir, 'redis-ops.json');
    writeFileSync(config, JSON.stringify({ queues: Array.from({ length: QUEUES }, (_, q) => ({ name: `jobs_${q}_queue`, keys: { main: `jobs_${q}_queue`, retry: `jobs_${q}_retry_queue`, dead: `jobs_${q}_dead_letter_queue` } })) }));
    const keyList = Array.from({ length: QUEUES }, (_, q) => [`jobs_${q}_queue`, `jobs_${q}_retry_queue`, `jobs_${q}_dead_letter_queue`]).flat().join(',');

    const ours = await startPinned(process.execPath, [BIN, 'exporter', '--url', server.url, '--config', config, '--listen', '127.0.0.1:0'], (e) => /listening on/.test(e));
    const oursUrl = `${/listening on (http:\/\/\S+)/.exec(ours.err())[1]}`;
    const port = 20000 + (process.pid % 20000);
    const theirs = await startPinned('prometheus-redis-exporter', ['-redis.addr', `redis://127.0.0.1:${server.port}`, '-web.listen-address', `127.0.0.1:${port}`, '-check-single-keys', keyList], (e) => /Providing metrics/i.test(e));
    const theirsUrl = `http://127.0.0.1:${port}/metrics`;
    // Alternate which goes first would not change much: the server is idle but for the scrapes.
    const a = await measure('redis_exporter 1.45 (-check-single-keys: 60 list lengths)', theirsUrl, theirs.child.pid);
    const b = await measure('redis-ops exporter (20 declared queues, key walk at 2,000 keys/s in the background)', oursUrl, ours.child.pid);
    theirs.child.kill('SIGTERM');
    ours.child.kill('SIGTERM');

    const mb = (n) => fmt(n / 1048576, 1);
    printTable(`exporter scrapes (${fmt(total)}-key server, ${QUEUES} queues × ${fmt(JOBS)} jobs; 200 timed scrapes, RSS after 1,000 and 10,000)`,
      ['exporter', 'median ms', 'p99 ms', 'CPU ms/scrape', 'RSS @1k MB', 'RSS @10k MB', 'RSS drift', 'vs redis_exporter (median)'],
      [a, b].map((r) => [r.name, fmt(r.median, 2), fmt(r.p99, 2), fmt(r.cpuPerScrape * 1000, 2), mb(r.rss1k), mb(r.rss10k), `${r.rss10k >= r.rss1k ? '+' : ''}${fmt((r.rss10k / r.rss1k - 1) * 100, 1)}%`, `${fmt(r.median / a.median, 2)}×`]));
    const theirWaiting = sumOf(a.text, /^redis_key_size\{db="db0",key="jobs_\d+_queue"\}/);
    const ourWaiting = sumOf(b.text, /^redis_ops_queue_waiting\{/);
    printTable('what each reports for the 20 queues', ['exporter', 'waiting jobs (sum)', 'queue families', 'worker/lock/pattern families', 'per-queue oldest-job age'], [
      [a.name, fmt(theirWaiting), `${families(a.text, 'redis_key_size')} (key sizes, no queue notion)`, '0', 'no'],
      [b.name, fmt(ourWaiting), `${families(b.text, 'redis_ops_queue_')}`, `${families(b.text, 'redis_ops_workers') + families(b.text, 'redis_ops_orphaned') + families(b.text, 'redis_ops_locks') + families(b.text, 'redis_ops_keys_pattern')}`, 'yes'],
    ]);
    console.log('  redis_exporter sees a queue only as the length of a key named on its command line; it has no notion of Sidekiq/BullMQ/RQ/Celery');
    console.log('  layouts, workers, locks or patterns, and its --check-keys SCAN does not cover a cluster (one node per target).');
  } finally {
    await server.stop();
  }
}
