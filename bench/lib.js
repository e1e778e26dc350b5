// Shared pieces of the benchmarks: data loading through redis-cli --pipe,
// timing whole processes, a concurrent PING probe, and the result table.
import { spawn, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/redis-ops.js', import.meta.url));

/**
 * In production the tool runs on another host than the server. On this
 * 2-core machine the server is pinned to CPU 0 and every client (the tool,
 * redis-cli, the PING probe) to CPU 1, so that clients do not steal the
 * server's CPU and the latency figures measure the server's responsiveness.
 */
export const SERVER_CPU = '0';
export const CLIENT_CPU = '1';
/** The probe sleeps between PINGs: beside the server it waits less than beside a busy client. */
export const PROBE_CPU = '0';

function resp(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    s += `$${b.length}\r\n${b.toString('latin1')}\r\n`;
  }
  return s;
}

/** Streams commands into `redis-cli --pipe` (the fastest way to load a server). */
export async function loadWithPipe(port, commands) {
  const child = spawn('redis-cli', ['-p', String(port), '--pipe'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  let chunk = '';
  for (const cmd of commands) {
    chunk += resp(cmd);
    if (chunk.length > 1 << 20) {
      if (!child.stdin.write(chunk, 'latin1')) await new Promise((r) => child.stdin.once('drain', r));
      chunk = '';
    }
  }
  child.stdin.end(chunk, 'latin1');
  await new Promise((r) => child.on('exit', r));
  if (!/errors: 0/.test(out)) throw new Error(`redis-cli --pipe reported: ${out}`);
}

/** 1M keys of mixed types and prefixes, a third with TTLs, like a production cache/queue mix. */
export function* mixedKeys(n) {
  for (let i = 0; i < n; i++) {
    const r = i % 100;
    if (r < 35) yield ['SET', `user:${i}:profile`, `{"id":${i},"name":"user${i}","plan":"pro"}`];
    else if (r < 55) yield ['SET', `session:${(i * 2654435761 >>> 0).toString(16)}${i}`, 'x'.repeat(64), 'EX', 3600 + (i % 86400)];
    else if (r < 65) yield ['SET', `cache:page:${i}`, 'c'.repeat(200), 'EX', 86400 * 3];
    else if (r < 80) yield ['HSET', `job:${i}`, 'status', 'done', 'created_at', '2026-11-01T10:00:00', 'attempts', '1'];
    else if (r < 88) yield ['RPUSH', `queue:events:${i % 5000}:${i}`, 'a', 'b', 'c'];
    else if (r < 93) yield ['SADD', `tags:${i}`, 'red', 'green', 'blue'];
    else if (r < 98) yield ['ZADD', `rate_limit:${i}:api`, '1', 'a', '2', 'b'];
    else if (r < 99) yield ['XADD', `stream:progress:${i}`, '*', 'file', 'f1', 'progress', '50'];
    else yield ['SET', `lock:job:${i}`, 'token'];
  }
}

export function timeProcess(cmd, args, { env, stdout = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', stdout, 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    let out = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout?.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim().split('\n').pop()}`));
      else resolve({ ms, out, err });
    });
  });
}

/**
 * Runs `fn` while a separate process PINGs the server; returns fn's result,
 * the probe's figures, and the longest single command the server ran
 * meanwhile (from its own SLOWLOG, read after the probe has stopped).
 */
export async function withPingProbe(port, fn) {
  const { Redis } = await import('ioredis');
  const admin = new Redis({ port, host: '127.0.0.1' });
  const [, before] = await admin.config('GET', 'slowlog-log-slower-than');
  await admin.config('SET', 'slowlog-log-slower-than', '500');
  await admin.config('SET', 'slowlog-max-len', '100000');
  await admin.slowlog('RESET');
  const probe = fork(fileURLToPath(new URL('./ping-probe.js', import.meta.url)), [String(port)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execPath: 'taskset', execArgv: ['-c', PROBE_CPU, process.execPath] });
  let out = '';
  probe.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => probe.once('message', r));
  const result = await fn();
  probe.kill('SIGTERM');
  await new Promise((r) => probe.on('exit', r));
  const entries = await admin.slowlog('GET', '-1');
  const longestCommandMs = entries.reduce((m, e) => Math.max(m, Number(e[2]) / 1000), 0);
  await admin.config('SET', 'slowlog-log-slower-than', before);
  await admin.slowlog('RESET');
  admin.disconnect();
  return { result, ping: JSON.parse(out), longestCommandMs };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function printTable(title, head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

export const fmt = (n, d = 0) => Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Wall time and peak RSS of a process (GNU time), pinned to the clients' CPU. */
export async function measureProcess(cmd, args, { stdout } = {}) {
  const shell = `${[cmd, ...args].map((a) => `'${a}'`).join(' ')}${stdout ? ` > '${stdout}'` : ''}`;
  const r = await timeProcess('/usr/bin/time', ['-f', 'RESOURCE %e %M', 'taskset', '-c', CLIENT_CPU, 'sh', '-c', shell]);
  const m = /RESOURCE ([\d.]+) (\d+)/.exec(r.err);
  return { s: Number(m[1]), rssMb: Number(m[2]) / 1024 };
}
