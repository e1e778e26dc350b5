// Issue 17 benchmark: what `top` and `hotkeys` cost the server they look at.
// - hotkeys: redis-benchmark GET throughput alone, then with a MONITOR sample
//   (and the LFU walk's duration), and whether the hammered key came first;
// - top: the commands one refresh sends each node and its wall time.
import { execFileSync, spawn } from 'node:child_process';
import { BIN, CLIENT_CPU, fmt, loadWithPipe, mixedKeys, printTable, timeProcess } from './lib.js';

/** redis-benchmark GETs of one key for `seconds`: requests per second. */
function benchGet(port, seconds) {
  return new Promise((resolve) => {
    const child = spawn('taskset', ['-c', CLIENT_CPU, 'redis-benchmark', '-p', String(port), '-n', '100000000', '-c', '8', '-P', '4', '-t', 'get', '--csv'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const started = Date.now();
    setTimeout(() => child.kill('SIGINT'), seconds * 1000);
    child.on('exit', () => {
      const calls = Number(/cmdstat_get:calls=(\d+)/.exec(execFileSync('redis-cli', ['-p', String(port), 'info', 'commandstats'], { encoding: 'utf8' }))?.[1] ?? 0);
      resolve({ calls, seconds: (Date.now() - started) / 1000, out });
    });
  });
}

function resetStats(port) {
  execFileSync('redis-cli', ['-p', String(port), 'config', 'resetstat']);
}

export async function benchIncident(startServer, { keys = 300_000 } = {}) {
  // hotkeys by MONITOR: the throughput the server keeps while it is sampled.
  const server = await startServer();
  try {
    const port = server.port;
    await loadWithPipe(port, mixedKeys(keys));
    execFileSync('redis-cli', ['-p', String(port), 'set', 'key:__rand_int__', 'v']);
    resetStats(port);
    const alone = await benchGet(port, 5);
    resetStats(port);
    const sampling = benchGet(port, 5);
    await new Promise((r) => setTimeout(r, 500));
    const hk = await timeProcess(process.execPath, [BIN, 'hotkeys', '--url', server.url, '--method', 'monitor', '--duration', '3s', '--yes', '--json'], { stdout: 'pipe' });
    const during = await sampling;
    const doc = JSON.parse(hk.out);
    const rate = (x) => x.calls / x.seconds;
    // The sample covers about 3 s of the 5 s run: the rest ran at about the rate alone.
    const sampled = Math.max(0, during.calls - rate(alone) * Math.max(0, during.seconds - doc.durationSec)) / doc.durationSec;
    printTable('hotkeys: redis-benchmark GET throughput while a MONITOR sample runs (3 s of a 5 s run)', ['run', 'GET/s (whole run)', 'GET/s while sampled (est.)', 'vs alone', 'top key found', 'sampled commands'], [
      ['redis-benchmark alone', fmt(rate(alone)), '', '1.00×', '', ''],
      ['with hotkeys --method monitor', fmt(rate(during)), fmt(sampled), `${fmt(sampled / rate(alone), 2)}×`, doc.keys[0]?.key === 'key:__rand_int__' ? `yes (${fmt(doc.keys[0].share * 100, 1)}% of key ops)` : `no: ${doc.keys[0]?.key}`, fmt(doc.sampled.lines)],
    ]);

    // top: one refresh = one INFO per node (plus queue reads); what it costs.
    resetStats(port);
    const top = await timeProcess(process.execPath, [BIN, 'top', '--once', '--json', '--url', server.url, '--interval', '1s', '--no-queues', '--slowlog', '0'], { stdout: 'pipe' });
    const stats = execFileSync('redis-cli', ['-p', String(port), 'info', 'commandstats'], { encoding: 'utf8' });
    const calls = (cmd) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // Every other command the run sent (CLIENT SETNAME, ROLE, …): not per refresh.
    const others = [...stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].filter(([, c]) => c !== 'info').reduce((a, [, , n]) => a + Number(n), 0);
    const usec = (cmd) => Number(new RegExp(`cmdstat_${cmd}:calls=\\d+,usec=(\\d+)`).exec(stats)?.[1] ?? 0);
    printTable(`top --once (two samples, ${fmt(keys)} keys, no queues)`, ['wall ms', 'INFO calls', 'INFO server µs each', 'other commands'], [
      [fmt(top.ms), fmt(calls('info')), fmt(usec('info') / Math.max(1, calls('info')), 1), fmt(others)],
    ]);
  } finally {
    await server.stop();
  }
}
