// Issue 19 benchmark: copy between two local servers, beside backup | restore
// through a pipe (the baseline), on the bench data; peak RSS and what other
// clients of the source see meanwhile (a PING probe).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN, CLIENT_CPU, fmt, loadWithPipe, mixedKeys, printTable, timeProcess, withPingProbe } from './lib.js';

async function measure(shell) {
  const r = await timeProcess('/usr/bin/time', ['-f', 'RESOURCE %e %M', 'taskset', '-c', CLIENT_CPU, 'sh', '-c', shell]);
  const m = /RESOURCE ([\d.]+) (\d+)/.exec(r.err);
  return { s: Number(m[1]), rssMb: Number(m[2]) / 1024 };
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const dbsize = (port) => Number(execFileSync('redis-cli', ['-p', String(port), 'dbsize'], { encoding: 'utf8' }));
const flush = (port) => execFileSync('redis-cli', ['-p', String(port), 'flushall']);

export async function benchCopy(startServer, { keys = 1_000_000 } = {}) {
  const src = await startServer();
  const dst = await startServer();
  try {
    // Streams are left out: redis-cli --pipe loads the rest of the mix fastest.
    await loadWithPipe(src.port, (function* () { for (const c of mixedKeys(keys)) if (c[0] !== 'XADD') yield c; })());
    const n = dbsize(src.port);
    const node = `'${process.execPath}' '${BIN}'`;
    const runs = [
      ['redis-ops copy', `${node} copy --from ${src.url} --to ${dst.url} --yes -q`],
      ['redis-ops copy --count 5000', `${node} copy --from ${src.url} --to ${dst.url} --yes -q --count 5000`],
      ['backup - | restore - (baseline)', `${node} backup -o - --url ${src.url} 2>/dev/null | ${node} restore - --url ${dst.url} --yes -q`],
    ];
    const rows = [];
    for (const [name, shell] of runs) {
      flush(dst.port);
      const cpu0 = [cpuSeconds(src.process.pid), cpuSeconds(dst.process.pid)];
      const { result: m, ping, longestCommandMs } = await withPingProbe(src.port, () => measure(shell));
      // Where the time goes: both servers share one core, so their CPU seconds together bound the wall time.
      const cpu = [cpuSeconds(src.process.pid) - cpu0[0], cpuSeconds(dst.process.pid) - cpu0[1]];
      const copied = dbsize(dst.port);
      rows.push([name, fmt(m.s, 2), fmt(n / m.s), fmt(m.rssMb), fmt(cpu[0], 1), fmt(cpu[1], 1), fmt(((cpu[0] + cpu[1]) / n) * 1e6, 1), fmt(ping.maxMs, 1), fmt(ping.p99Ms, 2), fmt(longestCommandMs, 1), copied === n ? 'all keys' : `${fmt(copied)} of ${fmt(n)}!`]);
    }
    printTable(`copy between two local servers (${fmt(n)} mixed keys; PING probe on the source)`, ['run', 'wall s', 'keys/s', 'peak RSS MB', 'source CPU s', 'destination CPU s', 'server µs/key', 'worst PING ms', 'p99 PING ms', 'longest command ms', 'copied'], rows);

    // One key of 1,000,000 elements: read in pages, built under a temporary name; memory stays bounded.
    flush(src.port);
    flush(dst.port);
    execFileSync('redis-cli', ['-p', String(src.port), 'eval', "for i=0,999 do local t={} for j=1,1000 do t[j]='element-'..(i*1000+j) end redis.call('RPUSH', KEYS[1], unpack(t)) end return 1", '1', 'biglist']);
    const { result: big, ping: bigPing, longestCommandMs: bigLongest } = await withPingProbe(src.port, () => measure(`${node} copy --from ${src.url} --to ${dst.url} --yes -q`));
    const len = Number(execFileSync('redis-cli', ['-p', String(dst.port), 'llen', 'biglist'], { encoding: 'utf8' }));
    printTable('copy of one list of 1,000,000 elements', ['wall s', 'elements/s', 'peak RSS MB', 'worst PING ms', 'p99 PING ms', 'longest command ms', 'copied'], [
      [fmt(big.s, 2), fmt(1_000_000 / big.s), fmt(big.rssMb), fmt(bigPing.maxMs, 1), fmt(bigPing.p99Ms, 2), fmt(bigLongest, 1), len === 1_000_000 ? 'all elements' : `${fmt(len)}!`],
    ]);
  } finally {
    await src.stop();
    await dst.stop();
  }
}
