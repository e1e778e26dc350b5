import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../src/lib/config.js';
import { resolveConnection } from '../../src/lib/connect/spec.js';
import { UsageError } from '../../src/errors.js';
import { declaredRef } from '../../src/lib/queues/systems/index.js';

const dir = mkdtempSync(join(tmpdir(), 'redis-ops-config-'));
const noConfig = { path: null, profiles: {}, sections: {} };
const quiet = { warn: () => {} };

describe('config validation', () => {
  it('names the bad field', () => {
    expect(() => validateConfig({ profiles: { prod: { port: 'x' } } }, 'c.json')).toThrow('config c.json: profiles.prod.port must be a whole number from 1 to 65535');
    expect(() => validateConfig({ profiles: { prod: { hots: 'a' } } }, 'c.json')).toThrow(/profiles\.prod\.hots is not a profile field/);
    expect(() => validateConfig({ queus: {} }, 'c.json')).toThrow(/queus is not a known section/);
    expect(() => validateConfig({ defaultProfile: 'x', profiles: {} }, 'c.json')).toThrow(/defaultProfile/);
  });

  it('a declared queue may name only its own system\'s key roles, and gets every other key from its adapter', () => {
    expect(() => validateConfig({ queues: [{ name: 'default', system: 'sidekiq', keys: { main: 'x' } }] }, 'c.json'))
      .toThrow('config c.json: queues[0].keys.main is not a sidekiq role (queue, schedule, retry, dead, processes)');
    expect(() => validateConfig({ queues: [{ name: 'q', keys: { waiting: 'x' } }] }, 'c.json'))
      .toThrow('config c.json: queues[0].keys.waiting is not a homegrown role (main, priority, retry, dead, processing)');
    const c = validateConfig({ queues: [{ name: 'emails', system: 'bullmq', prefix: 'app', keys: { wait: 'custom:wait' } }] }, 'c.json');
    const ref = declaredRef(c.sections.queues![0]!, 3);
    expect(ref).toMatchObject({ system: 'bullmq', db: 3, prefix: 'app', declared: true });
    expect(ref.keys).toEqual({
      wait: 'custom:wait', paused: 'app:emails:paused', prioritized: 'app:emails:prioritized', active: 'app:emails:active', delayed: 'app:emails:delayed',
      failed: 'app:emails:failed', completed: 'app:emails:completed', 'waiting-children': 'app:emails:waiting-children', meta: 'app:emails:meta',
    });
  });

  it('reports malformed JSON and a missing explicit file as usage errors', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"profiles": ');
    expect(() => loadConfig(bad, {})).toThrow(UsageError);
    expect(() => loadConfig(bad, {})).toThrow(/not valid JSON/);
    expect(() => loadConfig(join(dir, 'missing.json'), {})).toThrow(/cannot read/);
  });

  it('finds the file from REDIS_OPS_CONFIG and XDG_CONFIG_HOME', () => {
    const f = join(dir, 'env.json');
    writeFileSync(f, JSON.stringify({ profiles: { a: { port: 7000 } } }));
    expect(loadConfig(undefined, { REDIS_OPS_CONFIG: f }).profiles.a.port).toBe(7000);
  });
});

describe('resolveConnection', () => {
  it('takes host, port, user, password and db from a URL', async () => {
    const s = await resolveConnection({ url: 'redis://ops:s%40cret@cache.internal:6380/4' }, { env: {}, config: noConfig, ...quiet });
    expect(s).toMatchObject({ host: 'cache.internal', port: 6380, user: 'ops', password: 's@cret', db: 4, tls: null, mode: 'auto' });
  });

  it('turns on TLS for rediss://', async () => {
    const s = await resolveConnection({ url: 'rediss://h:1' }, { env: {}, config: noConfig, ...quiet });
    expect(s.tls).toMatchObject({ rejectUnauthorized: true, servername: 'h' });
  });

  it('layers defaults < defaultProfile < env < --profile < flags', async () => {
    const config = validateConfig({ defaultProfile: 'dev', profiles: { dev: { host: 'd', port: 7000 }, prod: { host: 'p', port: 7001, db: 2, passwordEnv: 'PROD_PW' } } }, 'c.json');
    const env = { PROD_PW: 'frompro', REDISCLI_AUTH: 'fromenv', REDIS_URL: 'redis://e:7009' };
    // Named on the command line: the profile beats the environment, the flags beat the profile.
    const s = await resolveConnection({ profile: 'prod', port: '7002' }, { env, config, ...quiet });
    expect(s).toMatchObject({ host: 'p', port: 7002, db: 2, password: 'frompro' });
    // The config's default profile yields to the environment.
    const t = await resolveConnection({}, { env: { REDIS_URL: 'redis://e:7009' }, config, ...quiet });
    expect(t).toMatchObject({ host: 'e', port: 7009 });
    const u = await resolveConnection({}, { env: {}, config, ...quiet });
    expect(u).toMatchObject({ host: 'd', port: 7000 });
  });

  it('warns that -a is visible in ps', async () => {
    const warnings: string[] = [];
    await resolveConnection({ password: 'x' }, { env: {}, config: noConfig, warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/visible in ps/);
    expect(warnings[0]).not.toContain('x ');
  });

  it('rejects bad flags with usage errors', async () => {
    const ctx = { env: {}, config: noConfig, ...quiet };
    await expect(resolveConnection({ url: 'http://x' }, ctx)).rejects.toThrow(/redis:\/\/ or rediss:\/\//);
    await expect(resolveConnection({ port: '99999' }, ctx)).rejects.toThrow(/--port/);
    await expect(resolveConnection({ sentinel: 'a:1' }, ctx)).rejects.toThrow(/--master-name/);
    await expect(resolveConnection({ profile: 'nope' }, ctx)).rejects.toThrow(/profile "nope" not found/);
    await expect(resolveConnection({ timeout: 'soon' }, ctx)).rejects.toThrow(/--timeout/);
  });

  it('an explicit --url or --host replaces the whole default target (nothing crosses hosts)', async () => {
    const config = validateConfig({ defaultProfile: 'dev', profiles: { dev: { host: 'd', port: 7000, password: 'devpw', tls: true } } }, 'c.json');
    const env = { REDIS_URL: 'rediss://u:h1pw@h1:7001/3' };
    expect(await resolveConnection({ url: 'redis://h2' }, { env, config, ...quiet })).toMatchObject({ host: 'h2', port: 6379, db: 0, user: undefined, password: undefined, tls: null });
    expect(await resolveConnection({ url: 'redis://[::1]' }, { env, config, ...quiet })).toMatchObject({ host: '::1', port: 6379, password: undefined });
    expect(await resolveConnection({ host: 'h3' }, { env, config, ...quiet })).toMatchObject({ host: 'h3', port: 6379, db: 0, password: undefined, tls: null });
    // Without an explicit target, REDIS_URL still applies, and --port/--db adjust it.
    expect(await resolveConnection({ port: '7005' }, { env, config, ...quiet })).toMatchObject({ host: 'h1', port: 7005, db: 3, password: 'h1pw' });
    // REDISCLI_AUTH names no host: it goes with whatever host is named, as in redis-cli.
    expect(await resolveConnection({ url: 'redis://h2' }, { env: { ...env, REDISCLI_AUTH: 'any' }, config, ...quiet })).toMatchObject({ host: 'h2', password: 'any' });
    await expect(resolveConnection({ url: 'redis://h2', profile: 'dev' }, { env, config, ...quiet })).rejects.toThrow(/--profile dev names a target and --url names another/);
  });

  it('refuses empty targets, query strings, bad escapes and prototype names as profiles', async () => {
    const ctx = { env: { REDIS_URL: 'redis://h1:7001' }, config: noConfig, ...quiet };
    for (const flags of [{ url: '' }, { url: '  ' }, { url: 'redis://' }, { url: 'rediss://' }, { host: '' }, { host: ' ' }]) {
      await expect(resolveConnection(flags, ctx)).rejects.toThrow(UsageError);
    }
    await expect(resolveConnection({ url: 'redis://h:1?db=3' }, ctx)).rejects.toThrow(/query parameters/);
    await expect(resolveConnection({ url: 'redis://u%zz:pw@h:1' }, ctx)).rejects.toThrow(/malformed %-escape/);
    await expect(resolveConnection({ url: 'redis://u:p%zzsecret@h:1' }, ctx)).rejects.not.toThrow(/secret/);
    for (const profile of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await expect(resolveConnection({ profile }, ctx)).rejects.toThrow(`profile "${profile}" not found`);
    }
    expect(() => validateConfig({ __proto__: {} }, 'c.json')).not.toThrow();
    expect(() => validateConfig(JSON.parse('{"__proto__": {"x": 1}}'), 'c.json')).toThrow(/__proto__ is not a known section/);
    expect(() => validateConfig({ profiles: { p: { constructor: 'x' } } }, 'c.json')).toThrow(/constructor is not a profile field/);
  });

  it('parses a sentinel list', async () => {
    const s = await resolveConnection({ sentinel: 'a:26379,b', masterName: 'mymaster' }, { env: {}, config: noConfig, ...quiet });
    expect(s.mode).toBe('sentinel');
    expect(s.sentinels).toEqual([{ host: 'a', port: 26379 }, { host: 'b', port: 26379 }]);
  });
});
