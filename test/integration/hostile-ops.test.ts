/**
 * Hostile input and failures for the commands of issues 17, 19 and 21 (top,
 * hotkeys, clients, copy, diff, keys stats --compare): unset variables,
 * special files, escape bytes in data, restricted users, servers dying.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { clientFor, startCluster, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli, startCli, until } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ro-hostile-ops-'));
let server: LocalServer;
let redis: Redis;

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  await redis.call('ACL', 'SETUSER', 'noclient', 'on', '>pw', '~*', '+@all', '-client');
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('unset variables never widen what a command does', () => {
  it('clients kill --name "" (an unset $POOL) is refused, and no unnamed connection is closed', async () => {
    const quiet = new Redis({ port: server.port, host: '127.0.0.1' }); // no name
    await quiet.ping();
    const before = String(await redis.call('CLIENT', 'LIST')).split('\n').filter(Boolean).length;
    for (const flag of ['--name', '--addr', '--client-user']) {
      const r = await runCli(['clients', 'kill', '--url', server.url, flag, '', '--yes']);
      expect(r.code, flag).toBe(2);
      expect(r.stderr).toBe(`error: ${flag} is empty (an unset variable?): nothing was done\n`);
    }
    expect(String(await redis.call('CLIENT', 'LIST')).split('\n').filter(Boolean).length).toBe(before);
    expect(await quiet.ping()).toBe('PONG');
    quiet.disconnect();
  });

  it('copy and diff with an empty side, an empty checkpoint or compare file: exit 2', async () => {
    for (const args of [
      ['copy', '--from', '', '--to', server.url, '--yes'],
      ['diff', '--from', server.url, '--to', ' '],
      ['copy', '--from', server.url, '--to', `${server.url}/1`, '--yes', '--checkpoint', ''],
      ['keys', 'stats', '--url', server.url, '--compare', ''],
      ['keys', 'stats', '--url', server.url, '--markdown', ''],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error: --\w[\w-]* is empty \(an unset variable\?\): nothing was done\n$/);
    }
  });
});

describe('special files', () => {
  it('a checkpoint that is a FIFO, a directory or a symbolic link is refused before anything is copied', async () => {
    const fifo = join(dir, 'ckpt.fifo');
    execFileSync('mkfifo', [fifo]);
    const link = join(dir, 'ckpt.link');
    writeFileSync(join(dir, 'real.ckpt'), '');
    symlinkSync(join(dir, 'real.ckpt'), link);
    await redis.set('copy:me', 'x');
    for (const [path, why] of [[fifo, 'not a regular file'], [dir, 'not a regular file'], [link, 'a symbolic link']] as const) {
      const r = await runCli(['copy', '--from', server.url, '--to', `${server.url}/1`, '--yes', '--checkpoint', path], { timeoutMs: 10_000 });
      expect(r.code, path).toBe(2);
      expect(r.stderr).toContain(why);
    }
    await redis.select(1);
    expect(await redis.dbsize()).toBe(0);
    await redis.select(0);
    await redis.del('copy:me');
  });
});

describe('data that would reach the terminal', () => {
  it('hotkeys, clients and diff show escape bytes in key and client names escaped', async () => {
    const evil = '\x1b]0;pwned\x07\x1b[2J';
    await redis.set(evil, 'v');
    const named = new Redis({ port: server.port, host: '127.0.0.1', connectionName: 'ok' });
    await named.ping();
    const load = (async () => { for (let i = 0; i < 300; i++) await named.get(evil); })();
    const hk = await runCli(['hotkeys', '--url', server.url, '--duration', '1s', '--yes']);
    await load;
    named.disconnect();
    expect(hk.code, hk.stderr).toBe(0);
    expect(hk.stdout).not.toMatch(/[\x07\x1b]/);
    const diff = await runCli(['diff', '--from', server.url, '--to', `${server.url}/2`]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain('missing  \\x1b]0;pwned\\x07\\x1b[2J');
    expect(diff.stdout).not.toMatch(/[\x07\x1b]/);
    await redis.del(evil);
  });
});

describe('restricted users and servers that fail', () => {
  it('clients as a user without CLIENT: the node is named with the refusal, exit 1', async () => {
    const r = await runCli(['clients', '--url', `redis://noclient:pw@127.0.0.1:${server.port}`, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { nodes: { node: string; error: string }[] };
    expect(doc.nodes[0]!.node).toBe(`127.0.0.1:${server.port}`);
    expect(doc.nodes[0]!.error).toMatch(/NOPERM|no permissions/i);
  });

  it('diff with a side that does not answer: exit 1, naming it', async () => {
    const r = await runCli(['diff', '--from', server.url, '--to', 'redis://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot connect to 127.0.0.1:1: connection refused (is the server running? check --host/--port/--url)\n');
  });

  it('copy whose source dies mid-run: exit 1 naming it, the checkpoint kept, and the same command finishes once it is back', async () => {
    const src = await startServer();
    const dst = await startServer();
    const s = clientFor(src);
    const p = s.pipeline();
    for (let i = 0; i < 4000; i++) p.set(`k:${i}`, 'v');
    await p.exec();
    s.disconnect();
    const ckpt = join(dir, 'dies.ckpt');
    const run = startCli(['copy', '--from', src.url, '--to', dst.url, '--yes', '--checkpoint', ckpt, '--count', '100', '--rate', '2000']);
    await until(() => existsSync(ckpt) && readFileSync(ckpt, 'utf8').includes('"keys"'), 'a first page copied');
    src.process.kill('SIGKILL');
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${src.port}.*the same command resumes from .*dies\\.ckpt`));
    expect(JSON.parse(readFileSync(ckpt, 'utf8')).nodes[`127.0.0.1:${src.port}/0`].done).toBe(false);
    await dst.stop();
  });

  it('copy whose destination dies mid-run (a page read while the last is written): exit 1 naming it, the checkpoint kept; resumed into the restarted server, it copies exactly what the checkpoint had not done', async () => {
    const src = await startServer();
    let dst = await startServer();
    try {
      const s = clientFor(src);
      const p = s.pipeline();
      for (let i = 0; i < 4000; i++) p.set(`k:${i}`, 'v');
      await p.exec();
      s.disconnect();
      const ckpt = join(dir, 'dst-dies.ckpt');
      const args = ['copy', '--from', src.url, '--to', dst.url, '--yes', '--checkpoint', ckpt, '--count', '100'];
      const run = startCli([...args, '--rate', '2000']);
      await until(() => existsSync(ckpt) && readFileSync(ckpt, 'utf8').includes('"keys"'), 'a first page copied');
      dst.process.kill('SIGKILL');
      const r = await run.done;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${dst.port}.*the same command resumes from .*dst-dies\\.ckpt`));
      const saved = JSON.parse(readFileSync(ckpt, 'utf8')).nodes[`127.0.0.1:${src.port}/0`] as { keys: number; done: boolean };
      expect(saved.done).toBe(false);
      expect(saved.keys).toBeGreaterThan(0);
      // The old server's data died with it (no persistence): the resumed run writes exactly the keys after the checkpoint.
      dst = await startServer({ port: dst.port });
      const again = await runCli(args);
      expect(again.code, again.stderr).toBe(0);
      const d = clientFor(dst);
      expect(await d.dbsize()).toBe(4000 - saved.keys);
      d.disconnect();
    } finally {
      await dst.stop();
      await src.stop();
    }
  });

  it('copy into a destination out of memory: exit 1 naming it and the OOM in one line, the checkpoint kept; with room again the same command finishes', async () => {
    const src = await startServer();
    const dst = await startServer();
    const d = clientFor(dst);
    try {
      const s = clientFor(src);
      const p = s.pipeline();
      // Strings (written by plain SET … NX) and lists (by the restore script): both refused alike.
      for (let i = 0; i < 3000; i++) p.set(`k:${i}`, 'v'.repeat(1000));
      for (let i = 0; i < 300; i++) p.rpush(`l:${i}`, 'a', 'b');
      await p.exec();
      s.disconnect();
      const used = Number(/used_memory:(\d+)/.exec(await d.info('memory'))![1]);
      // Room for the first pages (and the copy's own query buffers), not for 3 MB of strings.
      await d.config('SET', 'maxmemory', String(used + 1_500_000));
      const ckpt = join(dir, 'oom.ckpt');
      const args = ['copy', '--from', src.url, '--to', dst.url, '--yes', '--checkpoint', ckpt, '--count', '100'];
      const r = await runCli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: 127\\.0\\.0\\.1:${dst.port}: OOM command not allowed .*; the same command resumes from .*oom\\.ckpt; [\\d,]+ keys changed before it stopped\n$`));
      const saved = JSON.parse(readFileSync(ckpt, 'utf8')).nodes[`127.0.0.1:${src.port}/0`] as { keys: number; done: boolean };
      expect(saved.done).toBe(false);
      expect(await d.dbsize()).toBeGreaterThanOrEqual(saved.keys);
      await d.config('SET', 'maxmemory', '0');
      const again = await runCli(args);
      expect(again.code, again.stderr).toBe(0);
      expect(await d.dbsize()).toBe(3300);
      expect((await runCli(['diff', '--from', src.url, '--to', dst.url])).code).toBe(0);
    } finally {
      d.disconnect();
      await dst.stop();
      await src.stop();
    }
  });

  it('top on a cluster whose node dies: that node\'s row says why, the others are read, exit 1', async () => {
    const cluster = await startCluster();
    try {
      cluster.nodes[2]!.process.kill('SIGKILL');
      await until(async () => {
        const c = clientFor(cluster.nodes[0]!);
        const nodes = String(await c.call('CLUSTER', 'NODES'));
        c.disconnect();
        return /fail/.test(nodes);
      }, 'the others see the node fail', 20_000);
      const r = await runCli(['top', '--once', '--json', '--no-queues', '--interval', '200ms', '--url', cluster.url]);
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout) as { nodes: { node: string; error: string | null; opsPerSec: number | null }[] };
      const dead = doc.nodes.find((n) => n.node === `127.0.0.1:${cluster.nodes[2]!.port}`)!;
      expect(dead.error).not.toBeNull();
      expect(doc.nodes.filter((n) => n.error === null)).toHaveLength(2);
    } finally {
      await cluster.stop().catch(() => undefined);
    }
  });
});
