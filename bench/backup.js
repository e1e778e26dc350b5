// Issue 5 benchmarks: backup and restore keys/s and peak RSS for redis-ops and
// the redis-dump npm package, with redis-cli --rdb and --pipe as the physical
// limits, on 200k and 1M keys. The data leaves out streams and binary names:
// redis-dump crashes on both (it prints a TypeError and exits 0).
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, CLIENT_CPU, fmt, loadWithPipe, measureProcess as measure, median, mixedKeys, printTable, timeProcess, withPingProbe } from './lib.js';

/** Each measurement is repeated (BENCH_REPEAT, default 3): the table shows the median time and the highest peak RSS. */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

const summary = (runs) => ({ s: median(runs.map((r) => r.s)), rssMb: Math.max(...runs.map((r) => r.rssMb)) });

async function repeated(run) {
  const runs = [];
  for (let i = 0; i < REPEAT; i++) runs.push(await run());
  return summary(runs);
}

const dump = join(process.cwd(), 'node_modules/.bin/redis-dump');

function* dataset(n) {
  for (const cmd of mixedKeys(n)) if (cmd[0] !== 'XADD') yield cmd;
}

async function respFile(n, path) {
  const out = createWriteStream(path);
  for (const cmd of dataset(n)) {
    let s = `*${cmd.length}\r\n`;
    for (const a of cmd) s += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
    if (!out.write(s)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export async function benchBackup(startServer, sizes) {
  const rows = [];
  const latency = [];
  for (const n of sizes) {
    const src = await startServer();
    await loadWithPipe(src.port, dataset(n));
    const keys = Number((await timeProcess('redis-cli', ['-p', String(src.port), 'dbsize'], { stdout: 'pipe' })).out.trim());
    const dir = tmpdir();
    const opsFile = join(dir, `bench-ops-${n}.jsonl`);
    const dumpFile = join(dir, `bench-dump-${n}.json`);
    const rdbFile = join(dir, `bench-${n}.rdb`);
    const resp = join(dir, `bench-${n}.resp`);
    rmSync(opsFile, { force: true });

    // The two tools take turns, so a drift in the machine's speed touches both.
    const opsRuns = [];
    const rdRuns = [];
    for (let i = 0; i < REPEAT; i++) {
      rmSync(opsFile, { force: true });
      opsRuns.push(await measure(process.execPath, [BIN, 'backup', '--url', src.url, '-o', opsFile, '-q']));
      try {
        rdRuns.push(await measure(dump, ['-p', String(src.port), '--json'], { stdout: dumpFile }));
      } catch {
        rdRuns.push({ s: NaN, rssMb: NaN });
      }
    }
    const ops = summary(opsRuns);
    const rd = summary(rdRuns);
    // One more run of each beside a PING probe: what other clients see meanwhile.
    for (const [name, run] of [
      ['redis-ops backup', () => { rmSync(opsFile, { force: true }); return measure(process.execPath, [BIN, 'backup', '--url', src.url, '-o', opsFile, '-q']); }],
      ['redis-dump --json', () => measure(dump, ['-p', String(src.port), '--json'], { stdout: dumpFile }).catch(() => null)],
    ]) {
      const m = await withPingProbe(src.port, run);
      latency.push([fmt(keys), name, fmt(m.ping.maxMs, 1), fmt(m.ping.p99Ms, 2), fmt(m.ping.p50Ms, 2), fmt(m.longestCommandMs, 1)]);
    }
    await timeProcess('redis-cli', ['-p', String(src.port), 'config', 'set', 'repl-diskless-sync-delay', '0']);
    const rdb = await repeated(() => measure('redis-cli', ['-p', String(src.port), '--rdb', rdbFile]));
    await src.stop();

    let restoredKeys = 0;
    const restore = await repeated(async () => {
      const dst = await startServer();
      try {
        const r = await measure(process.execPath, [BIN, 'restore', opsFile, '--url', dst.url, '--yes', '-q']);
        restoredKeys = Number((await timeProcess('redis-cli', ['-p', String(dst.port), 'dbsize'], { stdout: 'pipe' })).out.trim());
        return r;
      } finally {
        await dst.stop();
      }
    });
    await respFile(n, resp);
    const pipe = await repeated(async () => {
      const pipeDst = await startServer();
      try {
        return await measure('sh', ['-c', `redis-cli -p ${pipeDst.port} --pipe < '${resp}' > /dev/null`]);
      } finally {
        await pipeDst.stop();
      }
    });

    const kps = (s) => (Number.isFinite(s) ? fmt(keys / s) : 'failed');
    rows.push(
      [fmt(keys), 'redis-ops backup', fmt(ops.s, 2), kps(ops.s), fmt(ops.rssMb), `${fmt(rd.s / ops.s, 2)}× redis-dump`, `${fmt(statSync(opsFile).size / 1e6)} MB`],
      [fmt(keys), 'redis-dump --json', Number.isFinite(rd.s) ? fmt(rd.s, 2) : 'failed', kps(rd.s), fmt(rd.rssMb), '', Number.isFinite(rd.s) ? `${fmt(statSync(dumpFile).size / 1e6)} MB` : ''],
      [fmt(keys), 'redis-cli --rdb (limit)', fmt(rdb.s, 2), kps(rdb.s), fmt(rdb.rssMb), '', `${fmt(statSync(rdbFile).size / 1e6)} MB`],
      [fmt(keys), 'redis-ops restore', fmt(restore.s, 2), kps(restore.s), fmt(restore.rssMb), `${restoredKeys === keys ? 'all keys' : `${restoredKeys} keys!`}`, ''],
      [fmt(keys), 'redis-cli --pipe (limit)', fmt(pipe.s, 2), kps(pipe.s), fmt(pipe.rssMb), '', ''],
    );
    for (const f of [opsFile, dumpFile, rdbFile, resp]) rmSync(f, { force: true });
  }
  printTable(`backup and restore (mixed types; server and client on their own CPUs; median of ${REPEAT} runs, highest peak RSS)`, ['keys', 'tool', 'wall s', 'keys/s', 'peak RSS MB', 'note', 'size'], rows);
  printTable('backup beside a PING probe (one run each)', ['keys', 'tool', 'worst PING ms', 'p99 PING ms', 'p50 PING ms', 'longest command ms'], latency);
}
