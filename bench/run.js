// npm run bench: loads data into throwaway servers and compares redis-ops with
// redis-cli (and other tools) on the same data in one run. Not a test: it
// prints figures and ratios, and asserts nothing.
import { execFileSync } from 'node:child_process';
import { startServer } from '../dist/server.mjs';
import { benchBackup } from './backup.js';
import { benchHealth } from './health.js';
import { benchKeys } from './keys.js';
import { benchTtl } from './ttl.js';
import { benchQueues } from './queue.js';
import { benchSlowlog } from './slowlog.js';
import { benchIncident } from './incident.js';
import { benchCopy } from './copy.js';
import { benchExporter } from './exporter.js';
import { benchRdb } from './rdb.js';
import { SERVER_CPU } from './lib.js';

/** A throwaway server pinned to its own CPU (see lib.js). */
async function benchServer(opts) {
  const server = await startServer(opts);
  execFileSync('taskset', ['-cp', SERVER_CPU, String(server.process.pid)], { stdio: 'ignore' });
  return server;
}

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const keys = Number(process.env.BENCH_KEYS ?? 1_000_000);

console.log(`redis-ops benchmarks on ${(await import('node:os')).cpus().length} cores, node ${process.version}`);
if (want('health')) {
  const server = await benchServer();
  try {
    await benchHealth(server);
  } finally {
    await server.stop();
  }
}
if (want('backup')) {
  const sizes = (process.env.BENCH_BACKUP_SIZES ?? '200000,1000000').split(',').map(Number);
  await benchBackup(benchServer, sizes);
}
if (want('queue')) {
  await benchQueues(benchServer, { total: keys });
}
if (want('ttl')) {
  await benchTtl(benchServer);
}
if (want('slowlog')) {
  const server = await benchServer();
  try {
    await benchSlowlog(server, { keys });
  } finally {
    await server.stop();
  }
}
if (want('incident')) {
  await benchIncident(benchServer, { keys: Math.min(keys, 300_000) });
}
if (want('copy')) {
  await benchCopy(benchServer, { keys });
}
if (want('exporter')) {
  await benchExporter(benchServer, { total: keys });
}
if (want('rdb')) {
  await benchRdb(benchServer, { keys });
}
if (want('keys')) {
  const server = await benchServer();
  try {
    await benchKeys(server, { keys });
  } finally {
    await server.stop();
  }
}
