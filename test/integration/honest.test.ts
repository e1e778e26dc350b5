/**
 * Exact answers and honest failures (issue 14): values that must be refused,
 * messages that must say what really happened, reports that must not stay
 * silent. Each test was written to fail on the code before its fix.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'ro-honest-'));

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

const cli = (args: string[], opts: { input?: string } = {}) => runCli([...args, '--url', server.url], opts);

describe('values that must be refused (item 12)', () => {
  it('--set-ttl longer than an expiry can be: exit 2, nothing changed', async () => {
    await redis.set('k:1', 'v');
    const r = await cli(['ttl', 'cleanup', 'k:*', '--set-ttl', '99999999999d', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--set-ttl: "99999999999d" is too long: at most .* \(longer than an expiry can be\)/);
    expect(await redis.pttl('k:1')).toBe(-1);
  });

  it('--timeout 0: exit 2 (the driver would wait for ever)', async () => {
    const r = await cli(['keys', 'scan', '--timeout', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeout: "0" is too short: at least 1ms/);
  });

  it('--watch below 1 s is refused: health (UNKNOWN, its usage code) and queue stats (exit 2)', async () => {
    const h = await cli(['health', '--watch', '0', '--format', 'nagios']);
    expect(h.code).toBe(3);
    expect(h.stdout).toMatch(/^REDIS UNKNOWN - --watch: "0" is too short: at least 1s/);
    const q = await cli(['queue', 'stats', '--watch', '500ms']);
    expect(q.code).toBe(2);
    expect(q.stderr).toMatch(/--watch: "500ms" is too short: at least 1s/);
  });
});

describe('at a terminal, progress never glues onto data (item 20)', () => {
  /** The pty's output as the lines a person sees: a move to column 1 (CSI G) is a carriage return; other sequences removed; split at CR and LF. */
  const segments = (output: string) => output.replace(/\x1b\[1?G/g, '\r').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r|\n/).filter(Boolean);

  it('keys scan and keys delete --dry-run: the spinner is cleared before each key; the dry run says it deletes nothing', async () => {
    const { runInTty } = await import('../helpers/tty.js');
    const p = redis.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`k:${i}`, 'v');
    await p.exec();
    // A dry run lists each key with why it is selected (issue 15): --show 5000 lists them all.
    for (const [args, line] of [[['keys', 'scan', 'k:*'], /^k:\d+$/], [['keys', 'delete', 'k:*', '--dry-run', '--show', '5000'], /^k:\d+ {2}\(matches k:\*\)$/]] as const) {
      const r = await runInTty([...args, '--url', server.url], { waitFor: /$^/ });
      expect(r.code, r.output).toBe(0);
      const lines = segments(r.output);
      expect(lines.filter((l) => /k:\d/.test(l) && !line.test(l))).toEqual([]);
      expect(lines.filter((l) => line.test(l))).toHaveLength(3000);
      if (args[1] === 'delete') {
        expect(r.output).not.toMatch(/deleting…/);
        expect(r.output).toMatch(/nothing is deleted/);
      }
    }
    expect(await redis.dbsize()).toBe(3000);
  });
});

describe('reports say which databases they leave out (item 21)', () => {
  it('backup, memory, keys stats and ttl audit on db 0 name the other non-empty databases; memory --all-dbs walks them', async () => {
    await redis.set('a', '1');
    const db2 = clientFor(server, 2);
    const db3 = clientFor(server, 3);
    await db2.mset('x', '1', 'y', '2', 'z', '3');
    await db3.set('w', '1');
    try {
      const file = join(dir, 'db0.jsonl');
      for (const args of [['backup', '-o', file], ['memory'], ['keys', 'stats'], ['ttl', 'audit']]) {
        const r = await cli(args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toContain('db 2 (3 keys) and db 3 (1 key) are not included: --all-dbs');
      }
      const all = await cli(['memory', '--all-dbs', '--json']);
      expect(all.code).toBe(0);
      expect(all.stderr).not.toContain('not included');
      expect(JSON.parse(all.stdout).scan.scanned).toBe(5);
    } finally {
      db2.disconnect();
      db3.disconnect();
    }
  });
});

describe('slowlog tells the truth (items 14, 15)', () => {
  it('-n 2 shows the newest two entries that are not the tool\'s own, however many of its own are newer', async () => {
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.call('SLOWLOG', 'RESET');
    const app = clientFor(server);
    await app.call('CLIENT', 'SETNAME', 'billing-api');
    for (const k of ['a', 'b', 'c']) await app.get(`app:${k}`);
    app.disconnect();
    // The tool's own walk fills the slowlog after the application's entries.
    await cli(['keys', 'stats']);
    const r = await cli(['slowlog', '-n', '2', '--json']);
    await redis.config('SET', 'slowlog-log-slower-than', '10000');
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout).entries;
    expect(entries.map((e: { args: string[]; clientName: string }) => [e.args.join(' '), e.clientName])).toEqual([['get app:c', 'billing-api'], ['get app:b', 'billing-api']]);
    const mine = JSON.parse((await cli(['slowlog', '--show', '500', '--json', '--include-self'])).stdout).entries;
    expect(mine.filter((e: { clientName: string | null }) => e.clientName?.startsWith('redis-ops:keys-stats')).length).toBeGreaterThan(0);
    // Every command of the walk came from a named connection.
    const walk = mine.filter((e: { args: string[] }) => /^(evalsha|scan|dbsize|memory)$/i.test(e.args[0] ?? ''));
    expect(walk.length).toBeGreaterThan(0);
    expect(walk.every((e: { clientName: string | null }) => e.clientName?.startsWith('redis-ops:'))).toBe(true);
  });
});

describe('restricted users (item 10)', () => {
  beforeEach(async () => {
    await redis.call('ACL', 'SETUSER', 'nomem', 'reset', 'on', '>nomempw', '~*', '&*', '+@all', '-memory', '-latency');
    const p = redis.pipeline();
    for (let i = 0; i < 300; i++) p.set(`k:${i}`, `v${i}`);
    await p.exec();
  });
  const asNomem = (args: string[]) => runCli([...args, '--user', 'nomem', '--url', server.url], { env: { REDISCLI_AUTH: 'nomempw' } });

  it('keys stats, ttl audit and memory without MEMORY: figures without bytes, said once, "bytesMeasured": false', async () => {
    const stats = await asNomem(['keys', 'stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ scanned: 300, bytesMeasured: false });
    expect(stats.stderr.trim().split('\n')).toEqual([`warning: 127.0.0.1:${server.port}: MEMORY USAGE is not allowed for this user; the report goes on without bytes ("bytesMeasured": false)`]);
    const audit = await asNomem(['ttl', 'audit', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ scanned: 300, bytesMeasured: false, noTtl: { count: 300 } });
    const memory = await asNomem(['memory', '--json']);
    expect(memory.code, memory.stderr).toBe(0);
    expect(JSON.parse(memory.stdout).scan).toMatchObject({ scanned: 300, bytesMeasured: false });
    const text = await asNomem(['keys', 'stats']);
    expect(text.stdout).toMatch(/^k:\*\s+300\s+-\s/m);
    // With MEMORY allowed, bytes are measured.
    expect(JSON.parse((await cli(['keys', 'stats', '--json'])).stdout)).toMatchObject({ bytesMeasured: true });
  });

  it('latency without LATENCY keeps the PING figures and notes the denied part', async () => {
    await redis.config('SET', 'latency-monitor-threshold', '100');
    try {
      const r = await asNomem(['latency', '--samples', '5', '--interval', '0', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const [node] = JSON.parse(r.stdout).nodes ?? JSON.parse(r.stdout);
      expect(node.ping).toMatchObject({ samples: 5 });
      expect(node.error).toBeNull();
      expect(node.monitor.hint).toMatch(/LATENCY is not allowed for this user/);
    } finally {
      await redis.config('SET', 'latency-monitor-threshold', '0');
    }
  });
});

describe('one-liners that say what happened (item 11)', () => {
  it('a server killed mid-run: "lost the connection", no TLS hint', async () => {
    const victim = await startServer();
    const v = clientFor(victim);
    const p = v.pipeline();
    for (let i = 0; i < 5000; i++) p.set(`k:${i}`, 'v');
    await p.exec();
    v.disconnect();
    const log = join(dir, 'killed.log');
    const { startCli, until } = await import('../helpers/cli.js');
    const { existsSync, readFileSync } = await import('node:fs');
    const run = startCli(['keys', 'delete', 'k:*', '--yes', '--rate', '2000', '--log', log, '--url', victim.url]);
    await until(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 300, 'the delete to be under way');
    victim.process.kill('SIGKILL');
    const r = await run.done;
    await victim.stop();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: (lost the connection to|cannot connect to) 127\\.0\\.0\\.1:${victim.port}`));
    expect(r.stderr).not.toMatch(/TLS|--tls/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rediss:// to a plain port: says the TLS handshake went unanswered, not "did not answer"', async () => {
    const r = await runCli(['keys', 'scan', '--url', server.url.replace('redis://', 'rediss://'), '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: 127.0.0.1:${server.port} did not complete a TLS handshake within 1000 ms: is it a TLS port? (a plain Redis port never answers a TLS hello; drop --tls / use redis://)\n`);
  });

  it('a config file whose top level has "__proto__": exit 2, names the section', async () => {
    const file = join(dir, 'proto.json');
    writeFileSync(file, '{"__proto__": {"x": 1}}');
    const r = await runCli(['keys', 'scan', '--config', file, '--url', server.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config .*proto\.json: __proto__ is not a known section/);
  });
});

describe('a key copied from the output names that key (item 13)', () => {
  it('inspect and delete take the escaped form keys scan prints; inspect takes --key64', async () => {
    const bin = Buffer.from([0x62, 0x69, 0x6e, 0x3a, 0xff, 0x00]); // bin:\xff\x00
    const near = Buffer.from([0x62, 0x69, 0x6e, 0x3a, 0xff, 0x01]);
    await redis.set(bin, 'exact');
    await redis.set(near, 'neighbour');
    await redis.set('a\\b', 'backslash');
    await redis.set('a\\bc', 'other');
    const printed = (await cli(['keys', 'scan', 'bin:*'])).stdout.trim().split('\n').sort();
    expect(printed).toEqual(['bin:\\xff\\x00', 'bin:\\xff\\x01']);
    const inspect = await cli(['keys', 'inspect', 'bin:\\xff\\x00', '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ exists: true, key64: bin.toString('base64') });
    const by64 = await cli(['keys', 'inspect', '--key64', bin.toString('base64'), '--json']);
    expect(JSON.parse(by64.stdout)).toMatchObject({ exists: true });
    expect(JSON.parse((await cli(['keys', 'inspect', 'a\\\\b', '--json'])).stdout)).toMatchObject({ exists: true, key: 'a\\b' });
    let del = await cli(['keys', 'delete', 'bin:\\xff\\x00', '--yes', '--json']);
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({ deleted: 1 });
    expect(await redis.exists(bin)).toBe(0);
    expect(await redis.exists(near)).toBe(1);
    del = await cli(['keys', 'delete', 'a\\\\b', '--yes', '--json']);
    expect(JSON.parse(del.stdout)).toMatchObject({ deleted: 1 });
    expect(await redis.exists('a\\bc')).toBe(1);
    // A glob escape keyText never writes keeps its meaning: \* is a literal star.
    await redis.set('star*', 'x');
    await redis.set('starry', 'x');
    del = await cli(['keys', 'delete', 'star\\*', '--yes', '--json']);
    expect(JSON.parse(del.stdout)).toMatchObject({ deleted: 1 });
    expect(await redis.exists('starry')).toBe(1);
  });
});

describe('queue enqueue --new creates only queues the tool can find again (item 9)', () => {
  it('refuses names discovery would not find; a good name is found by peek', async () => {
    for (const name of ['my queue', '*', 'myjobs', 'x:retry_queue', 'a*:queue']) {
      const r = await cli(['queue', 'enqueue', name, '{"a":1}', '--new', '--yes']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/would not find/);
    }
    expect(await redis.dbsize()).toBe(0);
    const ok = await cli(['queue', 'enqueue', 'email_jobs', '{"a":1}', '--new', '--yes']);
    expect(ok.code, ok.stderr).toBe(0);
    const peek = await cli(['queue', 'peek', 'email_jobs', '--json']);
    expect(peek.code, peek.stderr).toBe(0);
    expect(JSON.parse(peek.stdout).jobs).toHaveLength(1);
  });
});

describe('a run leaves the server\'s error counters as they were', () => {
  it('health, keys scan, keys stats, backup and restore add no error reply to INFO errorstats, even with the scripts not yet cached', async () => {
    // Monitoring alerts on a rising error rate: a tool run from cron every minute must not add to it.
    for (let i = 0; i < 50; i++) await redis.set(`k:${i}`, 'v', 'EX', 600);
    await redis.rpush('l:1', 'a', 'b');
    await redis.call('SCRIPT', 'FLUSH');
    await redis.call('CONFIG', 'RESETSTAT');
    const file = join(dir, 'errorstats.ndjson');
    for (const args of [['health'], ['keys', 'scan', 'k:*'], ['keys', 'stats'], ['backup', '-o', file]]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    await redis.flushall();
    const r = await cli(['restore', file, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(await redis.dbsize()).toBe(51);
    expect(await redis.info('errorstats')).toBe('# Errorstats\r\n');
  });
});
