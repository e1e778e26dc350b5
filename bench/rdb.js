// Issue 20 benchmark: reading an RDB file offline. On the same file (the
// bench's mixed keys, saved by the server), side by side: redis-check-rdb
// (Redis's own C reader: the floor), the server's own load of the file, and
// `rdb scan`, `rdb stats`, `rdb export`, with MB/s, keys/s and peak RSS. A
// second file holds two big keys (a 2M-member set, a 100 MB string) to show
// that peak RSS does not follow the size of one key.
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BIN, fmt, loadWithPipe, measureProcess, median, mixedKeys, printTable } from './lib.js';

async function saveTo(server, file) {
  const c = new Redis({ port: server.port, host: '127.0.0.1' });
  await c.save();
  c.disconnect();
  copyFileSync(join(server.dir, 'dump.rdb'), file);
}

/** Wall time of a redis-server loading FILE, until it answers PING without LOADING. */
async function serverLoad(startServer, file) {
  const t0 = process.hrtime.bigint();
  const s = await startServer({ args: ['--dir', join(file, '..'), '--dbfilename', file.split('/').pop()] });
  const c = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true });
  await c.connect();
  for (;;) {
    const loading = /loading:1/.test(await c.info('persistence'));
    if (!loading) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const s1 = Number(process.hrtime.bigint() - t0) / 1e9;
  const keys = await c.dbsize();
  c.disconnect();
  await s.stop();
  return { s: s1, keys };
}

/** The median wall time of RUNS runs (this machine's timings swing by 2× from one minute to the next) and the highest peak RSS. */
const RUNS = 3;
async function measureRuns(cmd, args, opts) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measureProcess(cmd, args, opts));
  return { s: median(runs.map((r) => r.s)), rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

export async function benchRdb(startServer, opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ro-bench-rdb-'));
  try {
    await benchIn(dir, startServer, opts);
  } finally {
    // Half a gigabyte of files: never left behind.
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchIn(dir, startServer, { keys = 1_000_000 } = {}) {
  const file = join(dir, 'mixed.rdb');
  const src = await startServer();
  try {
    await loadWithPipe(src.port, mixedKeys(keys));
    await saveTo(src, file);
  } finally {
    await src.stop();
  }
  const size = statSync(file).size;
  const check = await measureRuns('redis-check-rdb', [file], { stdout: '/dev/null' });
  const load = await serverLoad(startServer, file);
  const runs = [
    ['redis-check-rdb (C, the floor)', check],
    ['redis-server loading the file', { s: load.s, rssMb: NaN }],
    ['redis-ops rdb scan', await measureRuns(process.execPath, [BIN, 'rdb', 'scan', file], { stdout: '/dev/null' })],
    ['redis-ops rdb stats', await measureRuns(process.execPath, [BIN, 'rdb', 'stats', file, '--json'], { stdout: '/dev/null' })],
    ['redis-ops rdb export', await measureRuns(process.execPath, [BIN, 'rdb', 'export', file, '-o', join(dir, 'out.jsonl'), '-q', '--force'])],
  ];
  const floor = check.s;
  printTable(`reading an RDB file (${fmt(keys)} mixed keys, ${fmt(size / 1e6, 1)} MB, RDB 10; median of ${RUNS} runs)`, ['reader', 'wall s', 'MB/s', 'keys/s', 'peak RSS MB', 'vs redis-check-rdb'], runs.map(([name, r]) => [
    name, fmt(r.s, 2), fmt(size / 1e6 / r.s, 1), fmt(keys / r.s), Number.isFinite(r.rssMb) ? fmt(r.rssMb) : '', `${fmt(r.s / floor, 1)}×`,
  ]));
  console.log('  published: redis-rdb-tools ~3,300 keys/s (3.6M keys in ~18 min); rdr ~42 MB/s (5 GB in ~2 min)');

  // Two big keys: peak RSS must not follow them.
  const bigFile = join(dir, 'big.rdb');
  const big = await startServer();
  try {
    const members = function* () {
      for (let i = 0; i < 2_000_000; i += 1000) yield ['SADD', 'big:set', ...Array.from({ length: 1000 }, (_, j) => `member-${i + j}`)];
      // 100 MB of incompressible bytes in one string: SETRANGE in 1 MB steps.
      let x = 1;
      for (let at = 0; at < 100 << 20; at += 1 << 20) {
        const b = Buffer.alloc(1 << 20);
        for (let k = 0; k < b.length; k++) b[k] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
        yield ['SETRANGE', 'big:string', at, b];
      }
    };
    await loadWithPipe(big.port, members());
    await saveTo(big, bigFile);
  } finally {
    await big.stop();
  }
  const bigSize = statSync(bigFile).size;
  const bigRuns = [
    ['redis-ops rdb stats', await measureProcess(process.execPath, [BIN, 'rdb', 'stats', bigFile, '--json'], { stdout: '/dev/null' })],
    ['redis-ops rdb export', await measureProcess(process.execPath, [BIN, 'rdb', 'export', bigFile, '-o', join(dir, 'big.jsonl'), '-q'])],
  ];
  printTable(`two big keys (a 2,000,000-member set, a 100 MB string; file ${fmt(bigSize / 1e6)} MB)`, ['reader', 'wall s', 'peak RSS MB'], bigRuns.map(([name, r]) => [name, fmt(r.s, 2), fmt(r.rssMb)]));
}
