/**
 * Hostile input and injected faults (issue 13): what an attacker or an
 * unlucky operator does to the tool. Each test was written to fail on the
 * code before its fix.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync, createReadStream } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freePort } from '../../src/lib/sandbox/server.js';
import { allKeys, clientFor, startServer, whileStopped, type LocalServer } from '../helpers/redis.js';
import { runCli, startCli, until } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';
import { runInTty } from '../helpers/tty.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'ro-hostile-'));
let n = 0;
const path = (name: string) => join(dir, `${n++}-${name}`);

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const cli = (args: string[], opts: { env?: Record<string, string>; input?: string | Buffer } = {}) => runCli([...args, '--url', server.url], opts);

async function fill(prefix: string, count: number, value = 'v'.repeat(20)): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(count, i + 1000); j++) p.set(`${prefix}${j}`, `${value}${j}`);
    await p.exec();
  }
}

/** Keys of a backup file's records (plain-text keys only; the tests use such keys). */
function backupKeys(file: string): string[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return lines.filter((r) => r.key !== undefined).map((r) => r.key as string).sort();
}

/** Bytes waiting, unread, in the receive queues of connections to this local port (Linux /proc/net/tcp). */
function unreadBytesAt(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let total = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // local address, remote address, state (01: established), tx_queue:rx_queue
    if (f.length > 4 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '01') total += parseInt(f[4]!.split(':')[1]!, 16);
  }
  return total;
}

/** Starts a write with --log and --rate, and returns once 500 changes are logged: a run under way. */
async function underWay(args: string[], log: string): Promise<ReturnType<typeof startCli>> {
  const run = startCli([...args, '--log', log, '--rate', '2000', '--url', server.url]);
  await until(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 500, `${args.slice(0, 2).join(' ')} to be under way`);
  return run;
}

function expectOneLine(stderr: string) {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\s+at .*\(/);
}

describe('a failed cleanup keeps its undo backup (item 1)', () => {
  beforeEach(async () => {
    await redis.flushall();
    await fill('str:', 5000);
  });

  const original = Array.from({ length: 5000 }, (_, i) => `str:${i}`).sort();

  async function expectUndoable(file: string, stderr: string) {
    // The file is a complete, valid backup...
    const v = await runCli(['backup', 'verify', file, '--json']);
    expect(v.code, v.stderr).toBe(0);
    // ...holding every key that is gone (and nothing that was not asked for).
    const inFile = backupKeys(file);
    const left = new Set(await allKeys(redis));
    const gone = original.filter((k) => !left.has(k));
    expect(gone.length).toBeGreaterThan(0);
    expect(inFile.filter((k) => !original.includes(k))).toEqual([]);
    const inFileSet = new Set(inFile);
    expect(gone.filter((k) => !inFileSet.has(k))).toEqual([]);
    // The message names the file, the count and how to undo.
    const m = /([\d,]+) keys changed.*previous values are in (\S+): redis-ops restore \S+ --replace/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(m![2]).toBe(file);
    expect(Number(m![1].replace(/,/g, ''))).toBeLessThanOrEqual(gone.length);
    // And restore undoes the run.
    const r = await cli(['restore', file, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(await allKeys(redis)).toEqual(original);
  }

  it('a server that stops answering (SIGSTOP) mid-run', async () => {
    const undo = path('undo.jsonl');
    const log = path('changes.log');
    const run = await underWay(['ttl', 'cleanup', 'str:*', '--delete', '--backup', undo, '--timeout', '1s', '--yes'], log);
    const r = await whileStopped(server, () => run.done);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${server.port} did not answer within 1000 ms`);
    expectOneLine(r.stderr);
    expect(existsSync(`${undo}.partial-${run.child.pid}`), r.stderr).toBe(false);
    await expectUndoable(undo, r.stderr);
  });

  it('a connection cut mid-run (CLIENT KILL)', async () => {
    const undo = path('undo.jsonl');
    const log = path('changes.log');
    const run = await underWay(['ttl', 'cleanup', 'str:*', '--delete', '--backup', undo, '--yes'], log);
    await redis.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lost the connection to 127.0.0.1:${server.port}`);
    expectOneLine(r.stderr);
    redis.disconnect();
    redis = clientFor(server);
    await expectUndoable(undo, r.stderr);
  });

  it('SIGTERM mid-run stops at a safe point: exit 3, the undo backup complete', async () => {
    const undo = path('undo.jsonl');
    const log = path('changes.log');
    const run = await underWay(['ttl', 'cleanup', 'str:*', '--delete', '--backup', undo, '--yes'], log);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(3);
    const v = await runCli(['backup', 'verify', undo, '--json']);
    expect(v.code).toBe(0);
    const left = new Set(await allKeys(redis));
    const gone = original.filter((k) => !left.has(k));
    // Stopped between batches: the file holds exactly the keys it changed.
    expect(backupKeys(undo)).toEqual(gone);
    expect(gone.length).toBe(readFileSync(log, 'utf8').trim().split('\n').length);
  });
});

describe('a write that fails says how far it got (issue 14, item 7)', () => {
  it('keys delete against a server that stops answering: the count in the error and a final JSON object', async () => {
    await redis.flushall();
    await fill('str:', 5000);
    const log = path('changes.log');
    const run = await underWay(['keys', 'delete', 'str:*', '--yes', '--json', '--timeout', '1s'], log);
    const r = await whileStopped(server, () => run.done);
    expect(r.code).toBe(1);
    const logged = readFileSync(log, 'utf8').trim().split('\n').length;
    const m = /did not answer within 1000 ms; ([\d,]+) keys changed before it stopped/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1].replace(/,/g, ''))).toBe(logged);
    expect(JSON.parse(r.stdout)).toEqual({ status: 'failed', command: 'keys delete', changed: logged, error: `127.0.0.1:${server.port} did not answer within 1000 ms` });
  });
});

describe('empty arguments never mean "everything" (item 2)', () => {
  beforeEach(async () => {
    await redis.flushall();
    await fill('k:', 50);
  });

  for (const [what, args] of [
    ['keys delete ""', ['keys', 'delete', '', '--yes']],
    ['keys delete "  "', ['keys', 'delete', '  ', '--yes']],
    ['ttl cleanup "" --delete', ['ttl', 'cleanup', '', '--delete', '--yes']],
    ['ttl cleanup " " --set-ttl', ['ttl', 'cleanup', ' ', '--set-ttl', '1h', '--yes']],
    ['keys scan ""', ['keys', 'scan', '']],
    ['keys stats ""', ['keys', 'stats', '']],
    ['keys inspect ""', ['keys', 'inspect', '']],
    ['ttl audit ""', ['ttl', 'audit', '']],
    ['locks list ""', ['locks', 'list', '']],
    ['locks reap "" ', ['locks', 'reap', '', '--yes']],
    ['locks reap --key ""', ['locks', 'reap', '--key', '', '--force', '--yes']],
    ['queue peek ""', ['queue', 'peek', '']],
    ['queue stats ""', ['queue', 'stats', '']],
    ['queue enqueue "" --new', ['queue', 'enqueue', '', '{"a":1}', '--new', '--yes']],
    ['queue retry-drain " "', ['queue', 'retry-drain', ' ', '--yes']],
    ['queue dead "" purge', ['queue', 'dead', '', 'purge', '--yes']],
    ['backup --match ""', ['backup', '--match', '', '-o', '-']],
    ['restore --match ""', ['restore', '-', '--match', '', '--yes']],
  ] as const) {
    it(`${what}: exit 2, nothing changed`, async () => {
      const r = await cli([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/is empty/);
      expectOneLine(r.stderr);
      expect(await redis.dbsize()).toBe(50);
      expect(await redis.pttl('k:1')).toBe(-1);
    });
  }

  it('deleting every key at a terminal asks for the target to be typed, not y', async () => {
    const url = server.url;
    let r = await runInTty(['keys', 'delete', '*', '--url', url], { keys: ['y\r'], waitFor: /Type/ });
    expect(r.output).toContain(`Type 127.0.0.1:${server.port}/0 to confirm`);
    expect(r.code).toBe(2);
    expect(await redis.dbsize()).toBe(50);
    r = await runInTty(['keys', 'delete', '*', '--url', url], { keys: [`127.0.0.1:${server.port}/0\r`], waitFor: /Type/ });
    expect(r.code).toBe(0);
    expect(await redis.dbsize()).toBe(0);
  });

  it('ttl cleanup of every key at a terminal asks for the target too', async () => {
    const r = await runInTty(['ttl', 'cleanup', '*', '--delete', '--url', server.url], { keys: ['y\r'], waitFor: /Type/ });
    expect(r.output).toContain(`Type 127.0.0.1:${server.port}/0 to confirm`);
    expect(r.code).toBe(2);
    expect(await redis.dbsize()).toBe(50);
  });
});

describe('output paths are never replaced blindly (item 3)', () => {
  beforeAll(async () => {
    await redis.flushall();
    await fill('k:', 50);
  });

  it('backup -o FIFO writes into the FIFO and leaves it a FIFO', async () => {
    const fifo = path('fifo');
    execFileSync('mkfifo', [fifo]);
    const chunks: Buffer[] = [];
    const reader = createReadStream(fifo);
    reader.on('data', (d) => chunks.push(d as Buffer));
    const closed = new Promise((r) => reader.on('close', r));
    const r = await cli(['backup', '-o', fifo]);
    await closed;
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const lines = Buffer.concat(chunks).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(52); // header, 50 keys, trailer
  });

  it('backup -o an existing file: exit 2 unless --force', async () => {
    const file = path('old.jsonl');
    writeFileSync(file, 'precious\n');
    let r = await cli(['backup', '-o', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} exists: pass --force to replace it`);
    expect(readFileSync(file, 'utf8')).toBe('precious\n');
    r = await cli(['backup', '-o', file, '--force']);
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(53);
  });

  it('a second ttl cleanup --backup to the same file does not replace the first run\'s undo', async () => {
    await fill('u:', 10);
    const undo = path('undo.jsonl');
    let r = await cli(['ttl', 'cleanup', 'u:*', '--set-ttl', '1h', '--backup', undo, '--yes']);
    expect(r.code).toBe(0);
    const first = readFileSync(undo, 'utf8');
    r = await cli(['ttl', 'cleanup', 'u:*', '--delete', '--backup', undo, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${undo} exists: pass --force to replace it`);
    expect(readFileSync(undo, 'utf8')).toBe(first);
    expect(await redis.exists('u:1')).toBe(1);
  });

  it('a directory, a symlink or a socket as -o: exit 2, one line', async () => {
    const target = path('target.jsonl');
    const link = path('link.jsonl');
    symlinkSync(target, link);
    for (const [p, why] of [[dir, 'is a directory'], [link, 'is a symbolic link']] as const) {
      const r = await cli(['backup', '-o', p, '--force']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${p} ${why}`);
      expectOneLine(r.stderr);
    }
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('files the tool creates are owner-only', async () => {
    const file = path('mode.jsonl');
    const log = path('mode.log');
    expect((await cli(['backup', '-o', file])).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await fill('m:', 3);
    expect((await cli(['keys', 'delete', 'm:*', '--yes', '--log', log])).code).toBe(0);
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('--log on a symlink is refused; on a file others can read, a warning', async () => {
    await fill('m:', 3);
    const real = path('real.log');
    writeFileSync(real, '');
    const link = path('link.log');
    symlinkSync(real, link);
    let r = await cli(['keys', 'delete', 'm:*', '--yes', '--log', link]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--log: ${link} is a symbolic link`);
    expect(await redis.exists('m:1')).toBe(1);
    chmodSync(real, 0o644);
    r = await cli(['keys', 'delete', 'm:*', '--yes', '--log', real]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`--log: ${real} is readable by other users`);
    expect(readFileSync(real, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('--prom-file on a FIFO writes into it and keeps the FIFO', async () => {
    const fifo = path('prom-fifo');
    execFileSync('mkfifo', [fifo]);
    const chunks: Buffer[] = [];
    const reader = createReadStream(fifo);
    reader.on('data', (d) => chunks.push(d as Buffer));
    const closed = new Promise((r) => reader.on('close', r));
    const r = await cli(['health', '--only', 'ping', '--prom-file', fifo]);
    await closed;
    expect(r.code).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(Buffer.concat(chunks).toString()).toMatch(/^redis_ops_health_status\{target="127\.0\.0\.1:\d+"\} 0$/m);
  });
});

describe('a closed output is a failure for a backup (item 4)', () => {
  beforeAll(async () => {
    await redis.flushall();
    await fill('big:', 20000, 'x'.repeat(100));
  });

  it('backup -o - into a reader that leaves after 100 bytes: exit 1, says so', async () => {
    const run = startCli(['backup', '-o', '-', '--url', server.url]);
    let got = 0;
    run.child.stdout!.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 100) run.child.stdout!.destroy();
    });
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/output closed after [\d,]+ keys: the backup is incomplete/);
    expectOneLine(r.stderr);
  });

  it('keys scan into a reader that leaves stays exit 0', async () => {
    const run = startCli(['keys', 'scan', '--url', server.url]);
    run.child.stdout!.once('data', () => run.child.stdout!.destroy());
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('targets: nothing crosses hosts, nothing empty means the default (items 8, 9)', () => {
  let other: LocalServer;
  beforeAll(async () => {
    other = await startServer({ args: ['--requirepass', 'h1-secret'] });
  });
  afterAll(async () => {
    await other.stop();
  });

  it('an explicit --url does not inherit the password of REDIS_URL (seen by MONITOR on the second host)', async () => {
    const monitor = clientFor(server);
    const seen: string[] = [];
    const m = await monitor.monitor();
    m.on('monitor', (_t: string, args: string[]) => seen.push(args.join(' ')));
    const r = await runCli(['keys', 'scan', 'nothing:*', '--url', server.url], { env: { REDIS_URL: `redis://:h1-secret@127.0.0.1:${other.port}/2` } });
    expect(r.code).toBe(0);
    await redis.ping();
    await until(() => seen.some((s) => /scan/i.test(s)), 'MONITOR to show the walk');
    m.disconnect();
    monitor.disconnect();
    expect(seen.filter((s) => /^auth|^hello|^select/i.test(s))).toEqual([]);
    expect(seen.join('\n')).not.toContain('h1-secret');
  });

  it('--host replaces REDIS_URL too', async () => {
    const r = await runCli(['keys', 'scan', 'nothing:*', '--host', '127.0.0.1', '--port', String(server.port)], { env: { REDIS_URL: `redis://:h1-secret@127.0.0.1:${other.port}/2` } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  for (const [what, args] of [
    ['--url ""', ['--url', '']],
    ['--url redis://', ['--url', 'redis://']],
    ['--url rediss://', ['--url', 'rediss://']],
    ['--host ""', ['--host', '']],
    ['--host " "', ['--host', ' ']],
    ['?db=3 in the URL', ['--url', `${'redis://127.0.0.1:'}1?db=3`]],
    ['%zz in the URL', ['--url', 'redis://us%zz:pw@127.0.0.1:1']],
    ['--profile constructor', ['--profile', 'constructor']],
    ['--profile __proto__', ['--profile', '__proto__']],
    ['--profile toString', ['--profile', 'toString']],
  ] as const) {
    it(`${what}: exit 2, one line, nothing connected`, async () => {
      const r = await runCli(['keys', 'scan', ...args], { env: { REDIS_URL: server.url } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expectOneLine(r.stderr);
    });
  }
});

describe('locks (item 10)', () => {
  beforeEach(async () => {
    await redis.flushall();
  });

  it('--stale-after below 2 s is refused: OBJECT IDLETIME counts whole seconds', async () => {
    await redis.set('lock:a', 'tok');
    for (const d of ['1s', '500ms', '1999ms']) {
      const r = await cli(['locks', 'reap', '--stale-after', d, '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--stale-after must be at least 2s.*whole seconds/);
    }
    expect(await redis.exists('lock:a')).toBe(1);
  });

  it('locks that list --max-ttl calls stale, reap --max-ttl reaps', async () => {
    await redis.set('lock:long', 'tok', 'PX', 7_200_000);
    await redis.set('lock:short', 'tok', 'PX', 60_000);
    const l = await cli(['locks', 'list', '--max-ttl', '1h', '--json']);
    const stale = JSON.parse(l.stdout).locks.filter((x: any) => x.stale).map((x: any) => x.key);
    expect(stale).toEqual(['lock:long']);
    const r = await cli(['locks', 'reap', '--max-ttl', '1h', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ reaped: 1 });
    expect(await redis.exists('lock:long')).toBe(0);
    expect(await redis.exists('lock:short')).toBe(1);
  });

  it('reap --key K --force reaps a lock that has a TTL', async () => {
    await redis.set('lock:held', 'tok', 'PX', 60_000);
    const r = await cli(['locks', 'reap', '--key', 'lock:held', '--force', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ reaped: 1 });
    expect(await redis.exists('lock:held')).toBe(0);
  });
});

describe('queue enqueue keeps bytes or refuses (item 11)', () => {
  beforeEach(async () => {
    await redis.flushall();
  });

  it('a job with a byte that is not UTF-8, from --file, stdin or the argument: exit 2, nothing stored', async () => {
    const file = path('jobs.ndjson');
    writeFileSync(file, Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}\n')]));
    for (const r of [
      await cli(['queue', 'enqueue', 'jobs', '--new', '--file', file, '--yes']),
      await cli(['queue', 'enqueue', 'jobs', '--new', '--yes'], { input: readFileSync(file) }),
      await cli(['queue', 'enqueue', 'jobs', '{"a":"\uFFFD"}', '--new', '--yes']),
    ]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/not valid UTF-8/);
      expectOneLine(r.stderr);
    }
    expect(await redis.exists('jobs')).toBe(0);
  });

  it('valid UTF-8 is stored byte for byte', async () => {
    const job = '{"text":"héllo ✓ 🎉","n":12345678901234567890}';
    const r = await cli(['queue', 'enqueue', 'jobs', '--new', '--yes'], { input: `${job}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect((await redis.lrangeBuffer('jobs', 0, -1))[0]).toEqual(Buffer.from(job));
  });

  it('an error about --file never echoes the file', async () => {
    const file = path('shadow');
    writeFileSync(file, 'root:$y$j9T$SECRETHASHVALUE:19000:0:99999:7:::\n');
    const r = await cli(['queue', 'enqueue', 'jobs', '--new', '--file', file, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} line 1: not valid JSON`);
    expect(r.stderr).not.toMatch(/root|SECRET|j9T/);
    expectOneLine(r.stderr);
  });
});

describe('stored data never reaches the terminal raw (item 12)', () => {
  const EVIL = '\x1b]0;pwned\x07\x1b[2J\rX\nY';
  beforeAll(async () => {
    await redis.flushall();
    await runPeer('python', 'seed000.py', [server.url]);
    await redis.set(`lock:${EVIL}`, `token-${EVIL}`);
    await redis.lpush('tts_queue', JSON.stringify({ request_id: `req-${EVIL}`, text: EVIL }));
    await redis.lpush('tts_retry_queue', `bad ${EVIL}`);
    await redis.lpush('tts_dead_letter_queue', JSON.stringify({ request_id: `dead-${EVIL}`, error: EVIL }));
    await redis.hset(`worker_status:w-${EVIL}`, { last_seen: '2020-01-01T00:00:00', current_job: `job-${EVIL}`, queue_length: 1 });
    await redis.set(`k:${EVIL}`, EVIL);
  });

  /** No ESC, BEL or CR anywhere; no line that starts with the tail of the value (an unescaped LF). */
  function expectClean(text: string) {
    expect(text).not.toMatch(/[\x1b\x07\r]/);
    expect(text).not.toMatch(/^Y/m);
  }

  it('every command that prints data escapes it', async () => {
    const backupFile = path('evil.jsonl');
    expect((await cli(['backup', '-o', backupFile])).code).toBe(0);
    await redis.set(`k:${EVIL}`, 'changed');
    await redis.set(`extra:${EVIL}`, 'x');
    const runs = [
      ['locks', 'list', '--values'],
      ['locks', 'reap', '--stale-after', '2s', '--max-ttl', '1s', '--dry-run'],
      ['locks', 'reap', '--key', `lock:${EVIL}`, '--force', '--dry-run'],
      ['backup', 'diff', backupFile],
      ['queue', 'peek', 'tts_queue'],
      ['queue', 'dead', 'tts_queue', 'list'],
      ['queue', 'retry-drain', 'tts_queue', '--dry-run'],
      ['workers'],
      ['keys', 'scan'],
      ['keys', 'inspect', '--base64', Buffer.from(`k:${EVIL}`).toString('base64')],
      ['keys', 'delete', 'extra:*', '--dry-run'],
      ['ttl', 'cleanup', 'extra:*', '--delete', '--dry-run'],
    ];
    for (const args of runs) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBeLessThan(2);
      expectClean(r.stdout);
      expectClean(r.stderr);
    }
  });
});

describe('config files with secrets (item 13)', () => {
  it('a config file with a password that others can read gets one warning line', async () => {
    const file = path('config.json');
    writeFileSync(file, JSON.stringify({ profiles: { prod: { url: server.url, password: 'x' } } }));
    chmodSync(file, 0o644);
    let r = await runCli(['keys', 'scan', 'none:*', '--config', file, '--profile', 'prod']);
    expect(r.stderr).toContain(`warning: ${file} holds a password and is readable by other users: chmod 600 ${file}`);
    chmodSync(file, 0o600);
    r = await runCli(['keys', 'scan', 'none:*', '--config', file, '--profile', 'prod']);
    expect(r.stderr).not.toContain('readable by other users');
  });
});

describe('health tells a frozen or foreign server apart (items 5, 6, 7)', () => {
  let http: HttpServer;
  let httpPort: number;
  let closer: Server;
  let closerPort: number;
  let silent: Server;
  let silentPort: number;
  beforeAll(async () => {
    http = createHttpServer((_q, res) => res.end('hello'));
    httpPort = await freePort();
    await new Promise<void>((r) => http.listen(httpPort, '127.0.0.1', () => r()));
    closer = createServer((s) => s.destroy());
    closerPort = await freePort();
    await new Promise<void>((r) => closer.listen(closerPort, '127.0.0.1', () => r()));
    silent = createServer(() => {});
    silentPort = await freePort();
    await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', () => r()));
  });
  afterAll(() => {
    http.close();
    closer.close();
    silent.close();
  });

  it('a stopped server (SIGSTOP) is CRITICAL, exit 2, in every format', async () => {
    await whileStopped(server, async () => {
      const nagios = await cli(['health', '--format', 'nagios', '--timeout', '1s']);
      expect(nagios.code).toBe(2);
      expect(nagios.stdout).toBe(`REDIS CRITICAL - 127.0.0.1:${server.port} did not answer within 1000 ms\n`);
      const json = await cli(['health', '--json', '--timeout', '1s']);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'crit', error: `127.0.0.1:${server.port} did not answer within 1000 ms` });
    });
  });

  it('a server that stalls, then answers, shows the stall in its ping figure (CRITICAL)', async () => {
    const run = await whileStopped(server, async () => {
      const started = startCli(['health', '--json', '--only', 'ping', '--timeout', '20s', '--url', server.url]);
      // The check has sent its first command into the stall: the stopped server has unread bytes.
      await until(() => unreadBytesAt(server.port) > 0, 'the check to be waiting on the stopped server');
      // A stall of at least 1.5 s after the command was sent, whatever the machine's speed.
      await new Promise((r) => setTimeout(r, 1500));
      return started;
    });
    const r = await run.done;
    expect(r.code).toBe(2);
    const ping = JSON.parse(r.stdout).checks.find((c: any) => c.name === 'ping');
    expect(ping.status).toBe('crit');
    expect(ping.value).toBeGreaterThanOrEqual(1000);
  });

  it('a port that accepts and never answers is CRITICAL within --timeout', async () => {
    const r = await runCli(['health', '--format', 'nagios', '--timeout', '1s', '--port', String(silentPort)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(`REDIS CRITICAL - 127.0.0.1:${silentPort} did not answer within 1000 ms\n`);
  });

  it('an HTTP server or a proxy that closes the connection is UNKNOWN, exit 3, with the line on stdout', async () => {
    // Which of EPIPE and "Connection is closed" comes first varies: a few rounds each.
    for (const port of [httpPort, closerPort, httpPort, closerPort, httpPort, closerPort]) {
      const nagios = await runCli(['health', '--format', 'nagios', '--port', String(port)]);
      expect(nagios.code, nagios.stderr).toBe(3);
      expect(nagios.stdout).toMatch(new RegExp(`^REDIS UNKNOWN - 127\\.0\\.0\\.1:${port} .*\\n$`));
      expect(nagios.stdout).not.toMatch(/TLS connection|if the server speaks TLS/);
      const json = await runCli(['health', '--json', '--port', String(port)]);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'unknown' });
      expect(JSON.parse(json.stdout).error).toContain(`127.0.0.1:${port}`);
    }
  });
});
