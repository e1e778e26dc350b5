import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freePort } from '../../src/lib/sandbox/server.js';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

const PASSWORD = 'Sup3r-Secret-pw';
let server: LocalServer;
let admin: Redis;
let silent: Server;
let silentPort: number;
const dir = mkdtempSync(join(tmpdir(), 'redis-ops-errors-'));

beforeAll(async () => {
  server = await startServer({ args: ['--requirepass', PASSWORD] });
  admin = clientFor(server, 0, PASSWORD);
  await admin.call('ACL', 'SETUSER', 'reader', 'on', '>readerpw', '~*', '+@read', '+@connection', '-eval', '-evalsha');
  await admin.call('ACL', 'SETUSER', 'noscan', 'on', '>noscanpw', '~*', '+@connection', '+info', '+get');
  for (let i = 0; i < 20; i++) await admin.set(`k:${i}`, 'v');
  // Accepts connections and never answers: a hung server.
  silent = createServer(() => {});
  silentPort = await freePort();
  await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', () => r()));
});

afterAll(async () => {
  admin.disconnect();
  silent.close();
  await server.stop();
});

function expectOneLine(stderr: string) {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\s+at .*\(/); // no stack trace
  expect(stderr).not.toContain(PASSWORD);
}

describe('clear errors', () => {
  it('connection refused: exit 1, one line naming host:port', async () => {
    const port = await freePort();
    const r = await runCli(['keys', 'scan', '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot connect to 127.0.0.1:${port}: connection refused`);
    expectOneLine(r.stderr);
  });

  it('DNS failure: exit 1, one line', async () => {
    const r = await runCli(['keys', 'scan', '--host', 'no-such-host.invalid', '--port', '6379']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot resolve the host of no-such-host\.invalid:6379/);
    expectOneLine(r.stderr);
  });

  it('timeout: exit 1, says which host and the limit', async () => {
    const r = await runCli(['keys', 'scan', '--port', String(silentPort), '--timeout', '300ms']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${silentPort} did not answer within 300 ms`);
    expectOneLine(r.stderr);
  });

  it('no password: NOAUTH explained', async () => {
    const r = await runCli(['keys', 'scan', '--url', server.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${server.port} requires a password`);
    expectOneLine(r.stderr);
  });

  it('wrong password: exit 1, never echoes a password', async () => {
    const r = await runCli(['keys', 'scan', '--url', server.url], { env: { REDISCLI_AUTH: 'wrong-password-123' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`authentication failed at 127.0.0.1:${server.port} for the default user`);
    expect(r.stderr).not.toContain('wrong-password-123');
    expectOneLine(r.stderr);
  });

  it('the right password from REDISCLI_AUTH, REDIS_PASSWORD or --password-file works', async () => {
    for (const env of [{ REDISCLI_AUTH: PASSWORD }, { REDIS_PASSWORD: PASSWORD }]) {
      const r = await runCli(['keys', 'scan', 'k:1', '--url', server.url], { env });
      expect(r.stdout).toBe('k:1\n');
    }
    const file = join(dir, 'pw');
    writeFileSync(file, `${PASSWORD}\n`);
    const r = await runCli(['keys', 'scan', 'k:1', '--url', server.url, '--password-file', file]);
    expect(r.stdout).toBe('k:1\n');
  });

  it('-a works and warns on stderr that it is visible in ps', async () => {
    const r = await runCli(['keys', 'scan', 'k:1', '--url', server.url, '-a', PASSWORD]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('k:1\n');
    expect(r.stderr).toMatch(/visible in ps/);
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('user:password in the URL with an ACL user', async () => {
    const r = await runCli(['keys', 'scan', 'k:1', '--url', `redis://reader:readerpw@127.0.0.1:${server.port}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('k:1\n');
    expect(r.stderr).not.toContain('readerpw');
  });

  it('an ACL user without EVAL still walks, by pipelining, and says so', async () => {
    const r = await runCli(['keys', 'scan', 'k:*', '--json', '--user', 'reader', '--url', server.url], { env: { REDISCLI_AUTH: 'readerpw' } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(20);
    expect(JSON.parse(r.stdout.split('\n')[0])).toMatchObject({ type: 'string', ttlMs: null });
    expect(r.stderr).toMatch(/EVAL is not allowed/);
  });

  it('backup needs EVAL and EVALSHA: an ACL user without them gets NOPERM explained, exit 1, and no file', async () => {
    const file = join(dir, 'acl.jsonl');
    const r = await runCli(['backup', '-o', file, '--user', 'reader', '--url', server.url], { env: { REDISCLI_AUTH: 'readerpw' } });
    expect(r.code).toBe(1);
    // A connection's first call of a script is an EVAL (see loader.ts), so that is the command refused.
    expect(r.stderr).toMatch(/user "reader" at 127\.0\.0\.1:\d+ lacks an ACL permission: this user has no permissions to run the 'eval' command$/m);
    expectOneLine(r.stderr);
    expect(readdirSync(dir).filter((f) => f.startsWith('acl.jsonl'))).toEqual([]);
  });

  it('an ACL user lacking a command gets NOPERM explained, exit 1', async () => {
    const r = await runCli(['keys', 'scan', '--user', 'noscan', '--url', server.url], { env: { REDISCLI_AUTH: 'noscanpw' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/user "noscan" at 127\.0\.0\.1:\d+ lacks an ACL permission: .*scan/i);
    expectOneLine(r.stderr);
  });

  it('an ACL user cannot delete: NOPERM, and nothing changed', async () => {
    const r = await runCli(['keys', 'delete', 'k:*', '--yes', '--user', 'reader', '--url', server.url], { env: { REDISCLI_AUTH: 'readerpw' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lacks an ACL permission.*unlink/i);
    expect(await admin.dbsize()).toBe(20);
  });
});

describe('restricted servers', () => {
  it('a command the server does not offer (renamed away, as managed services do) is a clear error', async () => {
    const s = await startServer({ args: ['--rename-command', 'SLOWLOG', ''] });
    try {
      const r = await runCli(['slowlog', '--url', s.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`127.0.0.1:${s.port} does not know the command 'SLOWLOG'`);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await s.stop();
    }
  });
});

describe('usage errors (exit 2)', () => {
  it('unknown option and unknown command', async () => {
    const a = await runCli(['keys', 'scan', '--frobnicate']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("unknown option '--frobnicate'");
    const b = await runCli(['kyes']);
    expect(b.code).toBe(2);
  });

  it('a bad config file names the field', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ profiles: { prod: { port: 'six' } } }));
    const r = await runCli(['keys', 'scan', '--profile', 'prod', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`config ${file}: profiles.prod.port must be a whole number from 1 to 65535`);
    expectOneLine(r.stderr);
  });

  it('malformed JSON config from REDIS_OPS_CONFIG', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "profiles": ');
    const r = await runCli(['keys', 'scan'], { env: { REDIS_OPS_CONFIG: file } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not valid JSON');
  });

  it('a profile connects with its password from a file', async () => {
    const pw = join(dir, 'profile-pw');
    writeFileSync(pw, PASSWORD);
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({ profiles: { test: { host: '127.0.0.1', port: server.port, passwordFile: pw } } }));
    const r = await runCli(['keys', 'scan', 'k:2', '--profile', 'test', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('k:2\n');
  });

  it('bad URL and bad duration flags', async () => {
    const a = await runCli(['keys', 'scan', '--url', 'http://localhost']);
    expect(a.code).toBe(2);
    const b = await runCli(['keys', 'scan', '--ttl-below', 'soonish', '--url', server.url], { env: { REDISCLI_AUTH: PASSWORD } });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--ttl-below: "soonish" is not a duration');
  });
});
