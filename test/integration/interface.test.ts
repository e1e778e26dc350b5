/**
 * The interface an SRE already knows (issue 15): flags where redis-cli puts
 * them, one meaning per flag, help that answers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'ro-interface-'));
let backupFile = '';

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  await redis.set('k:1', 'v');
  await redis.set('lock:a', 'tok');
  await redis.lpush('tts_queue', '{"request_id":"r1"}');
  await redis.lpush('tts_dead_letter_queue', '{"request_id":"d1"}');
  backupFile = join(dir, 'b.jsonl');
  expect((await runCli(['backup', '-o', backupFile, '--url', server.url])).code).toBe(0);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** Every command that talks to Redis, with the arguments it needs (writes as dry runs). */
const COMMANDS = (): string[][] => [
  ['keys', 'scan'], ['keys', 'stats'], ['keys', 'inspect', 'k:1'], ['keys', 'delete', 'k:*', '--dry-run'],
  ['health', '--only', 'ping'], ['memory', '--no-scan'], ['latency', '--samples', '2', '--interval', '0'], ['slowlog'], ['slowlog', 'reset', '--dry-run'],
  ['backup', '-o', '-'], ['backup', 'diff', backupFile], ['restore', backupFile, '--dry-run'],
  ['ttl', 'audit'], ['ttl', 'cleanup', 'k:*', '--delete', '--dry-run'],
  ['locks', 'list'], ['locks', 'reap', '--dry-run'],
  ['queue', 'list'], ['queue', 'stats'], ['queue', 'peek', 'tts_queue'], ['queue', 'enqueue', 'tts_queue', '{"a":1}', '--dry-run'],
  ['queue', 'retry-drain', 'tts_queue', '--dry-run'], ['queue', 'dead', 'tts_queue', 'list'],
  ['workers'], ['workers', 'reap', '--dry-run'],
];

describe('connection and output options before or after the command path (item 1)', () => {
  it('every command gives the same answer with -u/--json/-n before the command as after it', async () => {
    for (const args of COMMANDS()) {
      const after = await runCli([...args, '--url', server.url, '--db', '0', '--json']);
      const before = await runCli(['-u', server.url, '-n', '0', '--json', ...args]);
      const what = `${args.join(' ')}: ${before.stderr}`;
      expect(before.code, what).toBe(after.code);
      expect(before.code, what).toBeLessThan(2);
      expect(before.stderr, what).not.toMatch(/unknown option|127\.0\.0\.1:1\b/);
      expect(before.stdout.length > 0, what).toBe(after.stdout.length > 0);
    }
  });

  it('redis-cli habits: -h host -p port first; --opt=value; -n is the database everywhere, also before slowlog', async () => {
    const r = await runCli(['-h', '127.0.0.1', `--port=${server.port}`, 'keys', 'scan', 'k:*']);
    expect(r.stdout).toBe('k:1\n');
    const db1 = clientFor(server, 1);
    await db1.set('only:in:1', 'x');
    db1.disconnect();
    expect((await runCli(['-p', String(server.port), '-n', '1', 'keys', 'scan'])).stdout).toBe('only:in:1\n');
    // Before the command path -n is the database, even for slowlog (whose own -n is a deprecated count).
    const s = await runCli(['-p', String(server.port), '-n', '1', 'slowlog', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toBe('');
  });

  it('slowlog reset --url X still gives --url to reset', async () => {
    const r = await runCli(['slowlog', 'reset', '--url', server.url, '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).nodes[0].node).toBe(`127.0.0.1:${server.port}`);
  });
});

describe('one meaning per flag (item 2)', () => {
  it('--show N is "show at most N" in slowlog, queue peek and queue dead list; -n/--count there still works, with a deprecation line', async () => {
    const peek = await runCli(['queue', 'peek', 'tts_queue', '--show', '1', '--json', '--url', server.url]);
    expect(peek.stderr).toBe('');
    expect(JSON.parse(peek.stdout).jobs).toHaveLength(1);
    for (const args of [['queue', 'peek', 'tts_queue', '-n', '1'], ['queue', 'dead', 'tts_queue', 'list', '--count', '1'], ['slowlog', '-n', '1']]) {
      const r = await runCli([...args, '--json', '--url', server.url]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^warning: -n\/--count is deprecated here .*: use --show 1\n$/);
    }
  });
});

describe('help (item 3)', () => {
  it('-h alone says it is the host and --help shows help', async () => {
    for (const args of [['-h'], ['-h', 'keys', 'scan']]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('error: -h is the host, as in redis-cli (redis-ops -h 10.0.0.5 health); --help shows help\n');
    }
  });

  it('redis-ops help keys scan shows the help of keys scan', async () => {
    const r = await runCli(['help', 'keys', 'scan']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: redis-ops keys scan \[options\] \[pattern\]/);
  });
});

describe('a config file for the profile tests', () => {
  it('--profile before the command works too', async () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ profiles: { here: { url: server.url } } }), { mode: 0o600 });
    const r = await runCli(['--config', file, '--profile', 'here', 'keys', 'scan', 'k:*']);
    expect(r.stdout).toBe('k:1\n');
  });
});

describe('key patterns that group what people store (item 9)', () => {
  it('keys stats: 1,000 rate-limit keys by IP give one pattern ratelimit:ip:*', async () => {
    const p = redis.pipeline();
    for (let i = 0; i < 1000; i++) p.set(i % 2 ? `ratelimit:ip:10.${i >> 8}.${i & 255}.1` : `ratelimit:ip:2001:db8::${i.toString(16)}`, '1', 'EX', 60);
    await p.exec();
    const r = await runCli(['keys', 'stats', 'ratelimit:*', '--json', '--url', server.url]);
    const groups = JSON.parse(r.stdout).groups;
    expect(groups.map((g: { pattern: string; count: number }) => [g.pattern, g.count])).toEqual([['ratelimit:ip:*', 1000]]);
  });
});

describe('health shows problems first (item 6)', () => {
  it('a line per node, then only the checks that are not OK; --all (or -v) lists every check; JSON has all', async () => {
    const ok = await runCli(['health', '--url', server.url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:${server.port} \\(standalone\\): OK\\nnode +role +status +checks *\\n127\\.0\\.0\\.1:${server.port} +master +OK +\\d+ ok *\\nevery check ok \\(--all lists them\\)\\n$`));
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    await redis.config('SET', 'maxmemory', String(Math.floor(used * 1.02)));
    try {
      const bad = await runCli(['health', '--url', server.url]);
      expect(bad.code).toBe(2);
      const lines = bad.stdout.trim().split('\n');
      expect(lines[0]).toBe(`127.0.0.1:${server.port} (standalone): CRITICAL`);
      expect(bad.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:${server.port} +master +CRITICAL +\\d+ ok, 1 crit *$`, 'm'));
      expect(bad.stdout).toMatch(/^Not OK$/m);
      expect(bad.stdout).toMatch(/^memory +CRITICAL/m);
      expect(bad.stdout).not.toMatch(/^ping /m);
      for (const flag of ['--all', '-v']) {
        const all = await runCli(['health', '--url', server.url, flag]);
        expect(all.stdout).toMatch(/^ping +OK/m);
        expect(all.stdout).toMatch(/^memory +CRITICAL/m);
      }
      const json = JSON.parse((await runCli(['health', '--url', server.url, '--json'])).stdout);
      expect(json.checks.find((c: { name: string }) => c.name === 'ping').status).toBe('ok');
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
  });
});

describe('tables fit an 80-column terminal (item 5)', () => {
  it('keys stats and health --all: no line wider than 80 columns at a terminal; full width when piped', async () => {
    const { runInTty, screenLines } = await import('../helpers/tty.js');
    const long = `session:${'abcdef0123456789'.repeat(8)}:profile:settings:${'x'.repeat(40)}`;
    await redis.set(long, 'v'.repeat(5000));
    for (const args of [['keys', 'stats', '--depth', '6', '--separator', '/'], ['health', '--all']]) {
      const r = await runInTty([...args, '--url', server.url], { cols: 80, waitFor: /$^/ });
      expect(r.code, r.output).toBeLessThan(2);
      // As the screen shows it: a spinner redrawn in place is one line, not its frames side by side.
      const lines = screenLines(r.output);
      expect(lines.filter((l) => l.trimEnd().length > 80), args.join(' ')).toEqual([]);
    }
    const piped = await runCli(['keys', 'stats', '--depth', '6', '--separator', '/', '--url', server.url]);
    expect(piped.stdout).toContain(long);
    await redis.del(long);
  });
});

describe('shell completion (item 4)', () => {
  it('the bash script, loaded in a real bash, completes commands, subcommands, flags, key types, formats and profile names', async () => {
    const { execFileSync } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const { chmodSync } = await import('node:fs');
    // `redis-ops` on the PATH, as after npm link.
    const binDir = join(dir, 'bin');
    (await import('node:fs')).mkdirSync(binDir, { recursive: true });
    writeFileSync(join(binDir, 'redis-ops'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(binDir, 'redis-ops'), 0o755);
    const config = join(dir, 'profiles.json');
    writeFileSync(config, JSON.stringify({ profiles: { prod: { host: 'p' }, staging: { host: 's' } } }), { mode: 0o600 });
    const complete = (words: string[]) => execFileSync('bash', ['-c', [
      'source <(redis-ops completion bash)',
      `COMP_WORDS=(${['redis-ops', ...words].map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}`,
      '_redis_ops; printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n')], { env: { PATH: `${binDir}:${process.env.PATH}`, HOME: dir, REDIS_OPS_CONFIG: config }, encoding: 'utf8' }).trim().split('\n');
    expect(complete(['ke'])).toEqual(['keys']);
    expect(complete(['keys', 's'])).toEqual(['scan', 'stats']);
    expect(complete(['keys', 'scan', '--ty'])).toEqual(['--type']);
    expect(complete(['keys', 'scan', '--type', ''])).toEqual(['string', 'list', 'set', 'zset', 'hash', 'stream']);
    expect(complete(['health', '--format', ''])).toEqual(['table', 'json', 'nagios']);
    expect(complete(['--profile', ''])).toEqual(['prod', 'staging']);
    expect(complete(['-h', 'cache-1', 'qu'])).toEqual(['queue']);
    expect(complete(['queue', 'peek', '--sh'])).toEqual(['--show']);
  });

  it('zsh and fish scripts are printed; another shell is exit 2', async () => {
    for (const shell of ['zsh', 'fish']) {
      const r = await runCli(['completion', shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('redis-ops __complete --');
    }
    expect((await runCli(['completion', 'tcsh'])).code).toBe(2);
  });
});

describe('progress with rate and time left (item 8)', () => {
  it('keys delete and ttl cleanup at a terminal show percent, count of the total, rate and ETA on stderr', async () => {
    const { runInTty } = await import('../helpers/tty.js');
    const p = redis.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`prog:${i}`, 'v');
    await p.exec();
    const total = await redis.dbsize();
    for (const args of [['keys', 'delete', 'prog:*', '--dry-run', '--rate', '1500'], ['ttl', 'cleanup', 'prog:*', '--delete', '--dry-run', '--rate', '1500']]) {
      const r = await runInTty([...args, '--url', server.url], { waitFor: /$^/ });
      expect(r.code, r.output).toBe(0);
      const line = new RegExp(`\\d+% · [\\d,]+ of ~${total.toLocaleString('en-US')} keys · [\\d,]+/s · ETA \\d+s · would (unlink|change) [\\d,]+`);
      expect(r.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''), args.join(' ')).toMatch(line);
    }
    // Off a terminal: no progress at all.
    const piped = await runCli(['keys', 'delete', 'prog:*', '--dry-run', '--url', server.url]);
    expect(piped.stderr).not.toMatch(/ETA/);
    await redis.del(...Array.from({ length: 3000 }, (_, i) => `prog:${i}`));
  });
});

describe('dry runs show what would change, and why (item 7)', () => {
  it('keys delete and ttl cleanup: the first --show items (20 by default) with their reason; --json lists every one', async () => {
    await redis.flushall();
    const p = redis.pipeline();
    for (let i = 0; i < 30; i++) p.set(`dry:${i}`, 'v');
    await p.exec();
    let r = await runCli(['keys', 'delete', 'dry:*', '--dry-run', '--url', server.url]);
    let lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines.slice(0, 20).every((l) => /^dry:\d+ {2}\(matches dry:\*\)$/.test(l))).toBe(true);
    expect(lines[20]).toBe('… and 10 more (--show N lists more; --json lists all)');
    r = await runCli(['keys', 'delete', 'dry:*', '--dry-run', '--show', '5', '--url', server.url]);
    expect(r.stdout.trim().split('\n')).toHaveLength(6);
    r = await runCli(['keys', 'delete', 'dry:*', '--dry-run', '--json', '--url', server.url]);
    const all = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(all).toHaveLength(30);
    expect(all[0]).toMatchObject({ action: 'unlink', reason: 'matches dry:*' });
    r = await runCli(['ttl', 'cleanup', 'dry:*', '--set-ttl', '1h', '--dry-run', '--show', '3', '--url', server.url]);
    lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 3).every((l) => /^dry:\d+ {2}expire 3600000 {2}\(matches dry:\*, no TTL\)$/.test(l))).toBe(true);
    expect(lines[3]).toBe('… and 27 more (--show N lists more; --json lists all)');
    expect(await redis.dbsize()).toBe(30);
  });

  it('queue retry-drain, locks reap and workers reap: each job, lock or worker with why', async () => {
    await redis.flushall();
    const { runPeer } = await import('../helpers/peers.js');
    await runPeer('python', 'seed000.py', [server.url]);
    await redis.set('lock:stale', 'tok');
    await (await import('../helpers/redis.js')).makeIdle(redis, 'lock:stale', 3600);
    const drain = await runCli(['queue', 'retry-drain', 'tts_queue', '--max-retries', '5', '--dry-run', '--url', server.url]);
    expect(drain.stdout).toMatch(/^retried {2}job req-13 → tts_queue {2}\(due \d+s ago\)$/m);
    expect(drain.stdout).toMatch(/^dead {2}job req-12 → tts_dead_letter_queue {2}\(retried 5 times \(--max-retries 5\)\)$/m);
    const drainJson = JSON.parse((await runCli(['queue', 'retry-drain', 'tts_queue', '--max-retries', '5', '--dry-run', '--json', '--url', server.url])).stdout);
    expect(drainJson.items.map((i: { job: string; action: string }) => [i.job, i.action]).sort()).toEqual([['req-12', 'dead'], ['req-13', 'retried']]);
    const locks = await runCli(['locks', 'reap', '--dry-run', '--url', server.url]);
    expect(locks.stdout).toMatch(/^lock:stale: would reap {2}\(no expiry and idle \d+s \(over 600s\): its holder is probably gone\)$/m);
    const workers = await runCli(['workers', 'reap', '--dry-run', '--url', server.url]);
    expect(workers.stdout).toMatch(/^forget {2}homegrown worker-2 {2}\(no heartbeat for 10m\d*s? \(last seen /m);
    expect(JSON.parse((await runCli(['workers', 'reap', '--dry-run', '--json', '--url', server.url])).stdout).items).toEqual([
      expect.objectContaining({ action: 'forget', system: 'homegrown', worker: 'worker-2' }),
    ]);
    expect(await redis.exists('lock:stale')).toBe(1);
  });
});

describe('streams in keys inspect (item 10)', () => {
  it('shows consumer groups with consumers, pending counts, last-delivered id and lag; --json as documented', async () => {
    await redis.del('events');
    for (let i = 1; i <= 5; i++) await redis.xadd('events', `${i}-0`, 'f', `v${i}`);
    await redis.xgroup('CREATE', 'events', 'billing', '0');
    await redis.xreadgroup('GROUP', 'billing', 'worker-a', 'COUNT', '2', 'STREAMS', 'events', '>');
    await redis.xreadgroup('GROUP', 'billing', 'worker-b', 'COUNT', '1', 'STREAMS', 'events', '>');
    await redis.xack('events', 'billing', '1-0');
    const json = JSON.parse((await runCli(['keys', 'inspect', 'events', '--json', '--items', '2', '--url', server.url])).stdout);
    expect(json.preview.items[0]).toEqual({ id: '1-0', fields: [{ name: 'f', value: 'v1' }] });
    expect(json.groups).toEqual([{
      name: 'billing', lastDeliveredId: '3-0', pending: 2, lag: 2, entriesRead: 3,
      consumers: [expect.objectContaining({ name: 'worker-a', pending: 1 }), expect.objectContaining({ name: 'worker-b', pending: 1 })],
    }]);
    const text = await runCli(['keys', 'inspect', 'events', '--url', server.url]);
    expect(text.stdout).toMatch(/^ {2}billing: last delivered 3-0, 2 pending, lag 2, 2 consumer\(s\)$/m);
    expect(text.stdout).toMatch(/^ {4}worker-a: 1 pending, idle /m);
  });
});

describe('first run (items 11, 12)', () => {
  it('a checkout before its build says so in one line, exit 2', async () => {
    const { execFile } = await import('node:child_process');
    const { copyFileSync, mkdirSync } = await import('node:fs');
    const { BIN } = await import('../helpers/cli.js');
    const checkout = join(dir, 'checkout');
    mkdirSync(join(checkout, 'bin'), { recursive: true });
    copyFileSync(BIN, join(checkout, 'bin', 'redis-ops.js'));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(checkout, 'bin', 'redis-ops.js'), 'keys', 'scan'], (err, _out, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stderr }));
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: redis-ops is not built yet: run npm install (or npm run build) in its directory first\n');
  });

  it("the sandbox's hint works as pasted when redis-ops is not on the PATH", async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const child = spawn(process.execPath, [BIN, 'sandbox', '--keys', '50', '--no-big'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', HOME: dir } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const { until } = await import('../helpers/cli.js');
    await until(() => /Ctrl-C stops/.test(out), 'the sandbox to be ready');
    const done = new Promise((r) => child.on('exit', r));
    child.kill('SIGINT');
    await done;
    expect(out).toContain(`alias redis-ops="${process.execPath} ${BIN}"   # or, once: npm link`);
  });
});
