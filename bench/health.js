// Issue 3 benchmark: whole-process wall time of `redis-ops health` next to
// `redis-cli ping` and `redis-cli info` (target: health under 300 ms median).
import { BIN, fmt, median, printTable, timeProcess } from './lib.js';

export async function benchHealth(server, { runs = 21 } = {}) {
  const port = String(server.port);
  // Not pinned: a lone process measured end to end uses Node's helper threads too.
  const client = (cmd, args) => timeProcess(cmd, args);
  const times = { ping: [], info: [], health: [], healthJson: [] };
  for (let i = 0; i < runs; i++) {
    times.ping.push((await client('redis-cli', ['-p', port, 'ping'])).ms);
    times.info.push((await client('redis-cli', ['-p', port, 'info'])).ms);
    times.health.push((await client(process.execPath, [BIN, 'health', '--url', server.url])).ms);
    times.healthJson.push((await client(process.execPath, [BIN, 'health', '--url', server.url, '--format', 'nagios'])).ms);
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  printTable(`health wall time (median of ${runs}, whole process)`, ['command', 'median ms', 'vs redis-cli info'], [
    ['redis-cli ping', fmt(m.ping, 1), `${fmt(m.ping / m.info, 2)}×`],
    ['redis-cli info', fmt(m.info, 1), '1.00×'],
    ['redis-ops health', fmt(m.health, 1), `${fmt(m.health / m.info, 2)}×`],
    ['redis-ops health --format nagios', fmt(m.healthJson, 1), `${fmt(m.healthJson / m.info, 2)}×`],
  ]);
}
