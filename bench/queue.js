// Issue 4 benchmarks: `queue stats` with 20 declared queues of 100k jobs each
// on a 1M-key server (declared: no walk; and the auto-detect walk separately),
// and `queue retry-drain --all` of 100k jobs (jobs/s, with a concurrent PING
// probe), against a plain pipelined LMOVE loop that moves as fast as Redis
// allows but checks nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, CLIENT_CPU, fmt, loadWithPipe, median, mixedKeys, printTable, timeProcess, withPingProbe } from './lib.js';

const QUEUES = 20;
const JOBS = 100_000;
const job = (q, i) => JSON.stringify({ request_id: `q${q}-${i}`, user_id: `u${i % 97}`, text: 'xin chào', timestamp: '2026-11-22T10:00:00.123456' });

function* queueData() {
  for (let q = 0; q < QUEUES; q++) {
    for (let i = 0; i < JOBS; i += 1000) yield ['LPUSH', `jobs_${q}_queue`, ...Array.from({ length: 1000 }, (_, j) => job(q, i + j))];
    yield ['LPUSH', `jobs_${q}_retry_queue`, job(q, -1)];
    yield ['LPUSH', `jobs_${q}_dead_letter_queue`, job(q, -2)];
  }
}

export async function benchQueues(startServer, { total = 1_000_000 } = {}) {
  const client = (args) => timeProcess('taskset', ['-c', CLIENT_CPU, process.execPath, BIN, ...args], { stdout: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'ro-bench-q-'));
  const config = join(dir, 'redis-ops.json');
  writeFileSync(config, JSON.stringify({ queues: Array.from({ length: QUEUES }, (_, q) => ({ name: `jobs_${q}_queue`, keys: { main: `jobs_${q}_queue`, retry: `jobs_${q}_retry_queue`, dead: `jobs_${q}_dead_letter_queue` } })) }));

  let server = await startServer();
  await loadWithPipe(server.port, mixedKeys(total - QUEUES * 3));
  await loadWithPipe(server.port, queueData());
  const declared = [];
  for (let i = 0; i < 5; i++) declared.push((await client(['queue', 'stats', '--url', server.url, '--config', config, '--json'])).ms);
  const check = JSON.parse((await client(['queue', 'stats', '--url', server.url, '--config', config, '--json'])).out);
  // redis-cli reading the same figures (LLEN of the three lists and both ends of the main one), one process.
  const script = Array.from({ length: QUEUES }, (_, q) => `LLEN jobs_${q}_queue\nLLEN jobs_${q}_retry_queue\nLLEN jobs_${q}_dead_letter_queue\nLINDEX jobs_${q}_queue 0\nLINDEX jobs_${q}_queue -1\n`).join('');
  const cliMs = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const { execFileSync } = await import('node:child_process');
    execFileSync('taskset', ['-c', CLIENT_CPU, 'redis-cli', '-p', String(server.port)], { input: script, stdio: ['pipe', 'ignore', 'ignore'] });
    cliMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const walk = await client(['queue', 'stats', '--url', server.url, '--json']);
  const found = JSON.parse(walk.out).queues;
  printTable(`queue stats (${QUEUES} queues × ${fmt(JOBS)} jobs on a ${fmt(total)}-key server)`, ['run', 'queues', 'jobs waiting', 'wall ms (median of 5)', 'vs redis-cli'], [
    ['queue stats, declared in the config (no walk)', check.queues.length, fmt(check.queues.reduce((a, q) => a + q.waiting, 0)), fmt(median(declared)), `${fmt(median(declared) / median(cliMs), 1)}× redis-cli's ${fmt(median(cliMs))} ms`],
    ['queue stats, auto-detect (walks every key)', found.length, fmt(found.reduce((a, q) => a + q.waiting, 0)), fmt(walk.ms), ''],
  ]);
  await server.stop();

  const rows = [];
  server = await startServer();
  const due = (i) => JSON.stringify({ request_id: `r${i}`, retry_count: 1, next_retry_at: 1795300000.25, text: 'xin chào' });
  const retryData = function* () {
    yield ['LPUSH', 'tts_queue', job(0, 0)];
    for (let i = 0; i < JOBS; i += 1000) yield ['LPUSH', 'tts_retry_queue', ...Array.from({ length: 1000 }, (_, j) => due(i + j))];
  };
  await loadWithPipe(server.port, retryData());
  const r = await withPingProbe(server.port, () => client(['queue', 'retry-drain', 'tts_queue', '--all', '--yes', '--json', '--url', server.url]));
  const res = JSON.parse(r.result.out);
  rows.push(['redis-ops queue retry-drain --all', fmt(res.moved.retried), fmt(r.result.ms / 1000, 2), fmt(res.moved.retried / (r.result.ms / 1000)), fmt(r.ping.maxMs, 2), fmt(r.ping.p99Ms, 2), fmt(r.longestCommandMs, 2)]);
  await server.stop();

  server = await startServer();
  await loadWithPipe(server.port, retryData());
  const lmove = `import { Redis } from 'ioredis'; const r = new Redis(${server.port}, '127.0.0.1'); for (let i = 0; i < ${JOBS}; i += 1000) { const p = r.pipeline(); for (let j = 0; j < 1000; j++) p.lmove('tts_retry_queue', 'tts_queue', 'RIGHT', 'LEFT'); await p.exec(); } r.disconnect();`;
  const l = await withPingProbe(server.port, () => timeProcess('taskset', ['-c', CLIENT_CPU, process.execPath, '--input-type=module', '-e', lmove]));
  rows.push(['pipelined LMOVE loop (no due check, no parse)', fmt(JOBS), fmt(l.result.ms / 1000, 2), fmt(JOBS / (l.result.ms / 1000)), fmt(l.ping.maxMs, 2), fmt(l.ping.p99Ms, 2), fmt(l.longestCommandMs, 2)]);
  await server.stop();
  printTable(`retry-drain --all (${fmt(JOBS)} due jobs)`, ['run', 'moved', 'wall s', 'jobs/s', 'worst PING ms', 'p99 PING ms', 'longest command ms'], rows);
}
