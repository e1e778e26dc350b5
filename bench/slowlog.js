// Issue 14 (item 16): how many SLOWLOG entries the tool's own walks add. An
// SRE reading the slowlog after a `keys stats` or `backup` must still find
// the application's slow commands: each server-side step of ours stays below
// slowlog-log-slower-than. Target: none at the default 10 ms, fewer than 5 at 2 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, CLIENT_CPU, fmt, loadWithPipe, mixedKeys, printTable, timeProcess } from './lib.js';

const client = (cmd, args) => timeProcess('taskset', ['-c', CLIENT_CPU, cmd, ...args]);

export async function benchSlowlog(server, { keys }) {
  await loadWithPipe(server.port, mixedKeys(keys));
  const { Redis } = await import('ioredis');
  const admin = new Redis({ port: server.port, host: '127.0.0.1', connectionName: 'bench-admin' });
  const dir = mkdtempSync(join(tmpdir(), 'bench-slowlog-'));
  const [, before] = await admin.config('GET', 'slowlog-log-slower-than');
  const rows = [];
  try {
    await admin.config('SET', 'slowlog-max-len', '100000');
    for (const thresholdUs of [10000, 2000]) {
      for (const [name, cmd, args] of [
        // The control: redis-cli's SCAN COUNT 10 steps take microseconds; what it adds is the machine's noise.
        ['redis-cli --scan (control)', 'redis-cli', ['-p', String(server.port), '--scan']],
        ['keys stats', process.execPath, [BIN, 'keys', 'stats', '--json', '--url', server.url]],
        ['backup', process.execPath, [BIN, 'backup', '-o', join(dir, 'b.jsonl'), '--force', '--url', server.url]],
      ]) {
        // Three runs each: on a shared 2-core VM a stolen time slice shows as a slow command.
        const counts = [];
        let wall = 0;
        let longest = 0;
        const commands = new Set();
        for (let run = 0; run < 3; run++) {
          await admin.config('SET', 'slowlog-log-slower-than', String(thresholdUs));
          await admin.slowlog('RESET');
          wall += (await client(cmd, args)).ms;
          // Everything but our own admin connection: the tool's commands, and those its scripts ran.
          const ours = (await admin.slowlog('GET', '-1')).filter((e) => String(e[5] ?? '') !== 'bench-admin');

          counts.push(ours.length);
          for (const e of ours) {
            longest = Math.max(longest, Number(e[2]) / 1000);
            commands.add(String(e[3][0]).toLowerCase());
          }
        }
        counts.sort((a, b) => a - b);
        rows.push([name, `${thresholdUs / 1000} ms`, fmt(wall / 3000, 2), counts.join(' / '), fmt(counts[1]), longest ? fmt(longest, 2) : '-', [...commands].join(' ') || '-']);
      }
    }
  } finally {
    await admin.config('SET', 'slowlog-log-slower-than', before);
    admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(`slowlog entries the tool adds (${fmt(keys)} keys)`, ['command', 'slowlog-log-slower-than', 'wall s (mean)', 'entries added (3 runs)', 'median', 'longest ms', 'commands'], rows);
}
