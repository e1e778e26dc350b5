import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type LocalServer } from '../helpers/redis.js';
import { makePki, type TestPki } from '../helpers/tls.js';
import { runCli } from '../helpers/cli.js';

let pki: TestPki;
let server: LocalServer;
let mutual: LocalServer;

beforeAll(async () => {
  pki = makePki();
  server = await startServer({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, authClients: false } });
  mutual = await startServer({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, authClients: true } });
  const c = new Redis({ port: server.port, host: '127.0.0.1', tls: { ca: readFileSync(pki.ca) } });
  await c.set('secure:1', 'x');
  c.disconnect();
});

afterAll(async () => {
  await server?.stop();
  await mutual?.stop();
});

describe('TLS', () => {
  it('--tls with --cacert verifies the server and works', async () => {
    const r = await runCli(['keys', 'scan', '--port', String(server.port), '--tls', '--cacert', pki.ca]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('secure:1\n');
  });

  it('a rediss:// URL turns TLS on', async () => {
    const r = await runCli(['keys', 'scan', '--url', `rediss://127.0.0.1:${server.port}`, '--cacert', pki.ca]);
    expect(r.stdout).toBe('secure:1\n');
  });

  it('an unverifiable certificate is a clear error; --insecure skips verification', async () => {
    const bad = await runCli(['keys', 'scan', '--port', String(server.port), '--tls']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/TLS with 127\.0\.0\.1:\d+ failed: .*(certificate|self.signed)/i);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const ok = await runCli(['keys', 'scan', '--port', String(server.port), '--tls', '--insecure']);
    expect(ok.stdout).toBe('secure:1\n');
  });

  it('a server that requires client certificates accepts --cert/--key', async () => {
    const r = await runCli(['keys', 'scan', '--port', String(mutual.port), '--tls', '--cacert', pki.ca, '--cert', pki.clientCert, '--key', pki.clientKey]);
    expect(r.code, r.stderr).toBe(0);
    const without = await runCli(['keys', 'scan', '--port', String(mutual.port), '--tls', '--cacert', pki.ca, '--timeout', '2s']);
    expect(without.code).toBe(1);
    // A reset or a TLS alert, depending on timing: either way the hint names --cert/--key.
    expect(without.stderr).toMatch(/client certificate \(--cert\/--key\)/);
    expect(without.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('plain text to a TLS port fails with a hint, not a hang', async () => {
    const r = await runCli(['keys', 'scan', '--port', String(server.port), '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('add --tls or use rediss://');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a missing --cacert file is a usage error', async () => {
    const r = await runCli(['keys', 'scan', '--port', String(server.port), '--tls', '--cacert', '/nonexistent/ca.pem']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cacert: cannot read /nonexistent/ca.pem');
  });
});

describe('copy and diff between a plain server and a TLS one, each side with its own settings', () => {
  it('copies into the TLS server as an ACL user named in a profile (strings by SET … NX, a list by the script), and diff agrees', async () => {
    const plain = await startServer();
    const admin = new Redis({ port: server.port, host: '127.0.0.1', tls: { ca: readFileSync(pki.ca) }, disableClientInfo: true });
    try {
      const p = new Redis({ port: plain.port, host: '127.0.0.1', disableClientInfo: true });
      await p.set('tls:s', 'v', 'PX', 600_000);
      await p.set('tls:bin', Buffer.from([0x00, 0x0d, 0x0a, 0xff]));
      await p.rpush('tls:l', 'a', 'b');
      p.disconnect();
      await admin.call('ACL', 'SETUSER', 'copier', 'on', '>copierpw', '~tls:*', '+@all');
      const dir = mkdtempSync(join(tmpdir(), 'ro-tls-copy-'));
      const config = join(dir, 'config.json');
      writeFileSync(config, JSON.stringify({ profiles: { secure: { host: '127.0.0.1', port: server.port, tls: true, cacert: pki.ca, user: 'copier', passwordEnv: 'COPIER_PW' } } }), { mode: 0o600 });
      const env = { COPIER_PW: 'copierpw' };
      await admin.call('CONFIG', 'RESETSTAT');
      const r = await runCli(['copy', '--from', plain.url, '--to', 'secure', 'tls:*', '--config', config, '--yes', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ created: 3, skipped: 0 });
      const stats = await admin.info('commandstats');
      expect(/cmdstat_set:calls=(\d+)/.exec(stats)?.[1]).toBe('2');
      expect(await admin.info('errorstats')).toBe('# Errorstats\r\n');
      expect(await admin.getBuffer('tls:bin')).toEqual(Buffer.from([0x00, 0x0d, 0x0a, 0xff]));
      expect(await admin.lrange('tls:l', 0, -1)).toEqual(['a', 'b']);
      expect(Number(await admin.pttl('tls:s'))).toBeGreaterThan(0);
      const d = await runCli(['diff', '--from', plain.url, '--to', 'secure', 'tls:*', '--config', config], { env });
      expect(d.code, d.stderr + d.stdout).toBe(0);
    } finally {
      admin.disconnect();
      await plain.stop();
    }
  });
});
