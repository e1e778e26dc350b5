import type { Redis } from 'ioredis';

/**
 * MONITOR, read byte for byte. The server prints each command as
 * `<time> [<db> <addr>] "arg" "arg"…` with every argument escaped the way
 * redis-cli shows strings (sdscatrepr: \", \\, \n, \r, \t, \a, \b, \xHH), so a
 * line is ASCII and every argument comes back exactly, binary ones included.
 */
export interface MonitorLine {
  time: number;
  db: number;
  source: string;
  args: Buffer[];
}

const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, '\\': 92 };

export function parseMonitorLine(line: string): MonitorLine | null {
  const m = /^(\d+(?:\.\d+)?) \[(\d+) ([^\]]*)\] /.exec(line);
  if (!m) return null;
  const args: Buffer[] = [];
  let i = m[0].length;
  while (i < line.length) {
    if (line[i] === ' ') { i++; continue; }
    if (line[i] !== '"') return null;
    const bytes: number[] = [];
    i++;
    for (;;) {
      if (i >= line.length) return null;
      const c = line[i]!;
      if (c === '"') { i++; break; }
      if (c === '\\') {
        const e = line[i + 1];
        if (e === 'x') {
          bytes.push(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (e !== undefined && e in ESCAPES) {
          bytes.push(ESCAPES[e]!);
          i += 2;
        } else return null;
      } else {
        bytes.push(c.charCodeAt(0));
        i++;
      }
    }
    args.push(Buffer.from(bytes));
  }
  return { time: Number(m[1]), db: Number(m[2]), source: m[3]!, args };
}

export interface MonitorRun {
  bytes: number;
  lines: number;
  stoppedBy: 'duration' | 'max-bytes' | 'interrupted';
}

/**
 * Runs MONITOR on a connection of its own for at most `durationMs` or
 * `maxBytes` of output, handing each line to `onLine`; the connection is
 * closed after (MONITOR cannot be turned off). A refusal (ACL NOPERM, a
 * managed service's renamed command) is an Error with the server's words.
 */
export function runMonitor(client: Redis, opts: { durationMs: number; maxBytes: number; signal?: AbortSignal }, onLine: (line: MonitorLine) => void): Promise<MonitorRun> {
  // The driver's parser splits MONITOR lines on '" "' and keeps escapes: the
  // socket is read directly, as RESP simple strings (+…\r\n) and errors (-…\r\n).
  const stream = (client as unknown as { stream: NodeJS.ReadWriteStream }).stream;
  stream.removeAllListeners('data');
  return new Promise((resolve, reject) => {
    let pending = '';
    let bytes = 0;
    let lines = 0;
    let started = false;
    let done = false;
    const finish = (stoppedBy: MonitorRun['stoppedBy'] | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      stream.removeListener('data', onData);
      client.disconnect();
      if (stoppedBy instanceof Error) reject(stoppedBy);
      else resolve({ bytes, lines, stoppedBy });
    };
    const onAbort = () => finish('interrupted');
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let nl = pending.indexOf('\r\n'); nl >= 0; nl = pending.indexOf('\r\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        if (line.startsWith('-')) return finish(new Error(line.slice(1)));
        if (!started) {
          // The first +OK answers MONITOR itself.
          started = true;
          if (line === '+OK') continue;
        }
        bytes += line.length + 2;
        lines++;
        const parsed = parseMonitorLine(line.slice(1));
        if (parsed) onLine(parsed);
        if (bytes >= opts.maxBytes) return finish('max-bytes');
      }
    };
    const timer = setTimeout(() => finish('duration'), opts.durationMs);
    opts.signal?.addEventListener('abort', onAbort);
    stream.on('data', onData);
    stream.write('MONITOR\r\n');
  });
}
