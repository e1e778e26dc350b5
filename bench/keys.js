// Issue 2 benchmarks: keys scan vs redis-cli --scan; keys stats vs --memkeys
// and --bigkeys with a concurrent PING probe; CLI start-up vs node -e 0.
import { BIN, CLIENT_CPU, fmt, loadWithPipe, median, mixedKeys, printTable, timeProcess, withPingProbe } from './lib.js';

/** Clients run on their own CPU (see lib.js). */
const client = (cmd, args) => timeProcess('taskset', ['-c', CLIENT_CPU, cmd, ...args]);

export async function benchKeys(server, { keys }) {
  const t0 = Date.now();
  await loadWithPipe(server.port, mixedKeys(keys));
  console.log(`loaded ${fmt(keys)} keys in ${fmt((Date.now() - t0) / 1000, 1)} s`);
  const port = String(server.port);
  const url = server.url;

  const cliScan = await client('redis-cli', ['-p', port, '--scan']);
  const opsScan = await client(process.execPath, [BIN, 'keys', 'scan', '--url', url]);
  const cliScanMatch = await client('redis-cli', ['-p', port, '--scan', '--pattern', 'user:*']);
  const opsScanMatch = await client(process.execPath, [BIN, 'keys', 'scan', 'user:*', '--url', url]);
  const opsScanJson = await client(process.execPath, [BIN, 'keys', 'scan', '--url', url, '--json']);
  const rate = (ms) => keys / (ms / 1000);
  printTable('keys scan (1M keys)', ['tool', 'wall s', 'keys/s', 'vs redis-cli --scan'], [
    ['redis-cli --scan', fmt(cliScan.ms / 1000, 2), fmt(rate(cliScan.ms)), '1.00×'],
    ['redis-ops keys scan', fmt(opsScan.ms / 1000, 2), fmt(rate(opsScan.ms)), `${fmt(cliScan.ms / opsScan.ms, 2)}×`],
    ['redis-cli --scan --pattern user:*', fmt(cliScanMatch.ms / 1000, 2), fmt(rate(cliScanMatch.ms)), '1.00×'],
    ['redis-ops keys scan user:*', fmt(opsScanMatch.ms / 1000, 2), fmt(rate(opsScanMatch.ms)), `${fmt(cliScanMatch.ms / opsScanMatch.ms, 2)}×`],
    ['redis-ops keys scan --json (type+TTL)', fmt(opsScanJson.ms / 1000, 2), fmt(rate(opsScanJson.ms)), `${fmt(cliScan.ms / opsScanJson.ms, 2)}×`],
  ]);

  const mem = await withPingProbe(server.port, () => client('redis-cli', ['-p', port, '--memkeys']));
  const big = await withPingProbe(server.port, () => client('redis-cli', ['-p', port, '--bigkeys']));
  const stats = await withPingProbe(server.port, () => client(process.execPath, [BIN, 'keys', 'stats', '--url', url, '--json']));
  const faster = Math.min(mem.result.ms, big.result.ms);
  const row = (name, m) => [name, fmt(m.result.ms / 1000, 2), fmt(rate(m.result.ms)), `${fmt(faster / m.result.ms, 2)}×`,
    fmt(m.ping.maxMs, 2), fmt(m.ping.p99Ms, 2), fmt(m.ping.p50Ms, 2), fmt(m.longestCommandMs, 2)];
  printTable('keys stats vs redis-cli analysis modes (1M keys; concurrent PING probe)',
    ['tool', 'wall s', 'keys/s', 'vs faster redis-cli', 'worst PING ms', 'p99 PING ms', 'p50 PING ms', 'longest command ms'], [
      row('redis-cli --memkeys', mem), row('redis-cli --bigkeys', big), row('redis-ops keys stats', stats),
    ]);

  const runs = 15;
  const node0 = [];
  const version = [];
  for (let i = 0; i < runs; i++) {
    node0.push((await timeProcess(process.execPath, ['-e', '0'])).ms);
    version.push((await timeProcess(process.execPath, [BIN, '--version'])).ms);
  }
  printTable(`start-up (median of ${runs})`, ['command', 'wall ms', 'vs node -e 0'], [
    ['node -e 0', fmt(median(node0), 1), '1.00×'],
    ['redis-ops --version', fmt(median(version), 1), `${fmt(median(version) / median(node0), 2)}×`],
  ]);
}
