// Issue 5 benchmarks: backup and restore keys/s and peak RSS for redis-ops and
// the redis-dump npm package, with redis-cli --rdb and --pipe as the physical
// limits, on 200k and 1M keys. The data leaves out streams and binary names:
// redis-dump crashes on both (it prints a TypeError and exits 0).
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, CLIENT_CPU, fmt, loadWithPipe, mixedKeys, printTable, timeProcess } from './lib.js';

const dump = join(process.cwd(), 'node_modules/.bin/redis-dump');

function* dataset(n) {
  for (const cmd of mixedKeys(n)) if (cmd[0] !== 'XADD') yield cmd;
}

/** Wall time and peak RSS of a process (GNU time), pinned to the clients' CPU. */
async function measure(cmd, args, { stdout } = {}) {
  const shell = `${[cmd, ...args].map((a) => `'${a}'`).join(' ')}${stdout ? ` > '${stdout}'` : ''}`;
  const r = await timeProcess('/usr/bin/time', ['-f', 'RESOURCE %e %M', 'taskset', '-c', CLIENT_CPU, 'sh', '-c', shell]);
  const m = /RESOURCE ([\d.]+) (\d+)/.exec(r.err);
  return { s: Number(m[1]), rssMb: Number(m[2]) / 1024 };
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

    const ops = await measure(process.execPath, [BIN, 'backup', '--url', src.url, '-o', opsFile, '-q']);
    let rd;
    try {
      rd = await measure(dump, ['-p', String(src.port), '--json'], { stdout: dumpFile });
    } catch (e) {
      rd = { s: NaN, rssMb: NaN, error: String(e.message).slice(0, 80) };
    }
    await timeProcess('redis-cli', ['-p', String(src.port), 'config', 'set', 'repl-diskless-sync-delay', '0']);
    const rdb = await measure('redis-cli', ['-p', String(src.port), '--rdb', rdbFile]);
    await src.stop();

    const dst = await startServer();
    const restore = await measure(process.execPath, [BIN, 'restore', opsFile, '--url', dst.url, '--yes', '-q']);
    const restoredKeys = Number((await timeProcess('redis-cli', ['-p', String(dst.port), 'dbsize'], { stdout: 'pipe' })).out.trim());
    await dst.stop();
    await respFile(n, resp);
    const pipeDst = await startServer();
    const pipe = await measure('sh', ['-c', `redis-cli -p ${pipeDst.port} --pipe < '${resp}' > /dev/null`]);
    await pipeDst.stop();

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
  printTable('backup and restore (mixed types; server and client on their own CPUs)', ['keys', 'tool', 'wall s', 'keys/s', 'peak RSS MB', 'note', 'size'], rows);
}
