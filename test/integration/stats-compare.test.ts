/**
 * keys stats --compare, --fail-on-growth and --markdown (issue 21, part): the
 * weekly memory report of a cron job, against last week's --json.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let server: LocalServer;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'ro-compare-'));
const lastWeek = join(dir, 'week1.json');

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  for (let i = 0; i < 10; i++) await redis.set(`payments:${i}`, 'p'.repeat(100));
  for (let i = 0; i < 10; i++) await redis.set(`cache:${i}`, 'c'.repeat(100), 'EX', 3600);
  await redis.set('old:1', 'x');
  const r = await runCli(['keys', 'stats', '--url', server.url, '--json']);
  expect(r.code).toBe(0);
  writeFileSync(lastWeek, r.stdout);
  // A week later: payments grew, the cache shrank, old:* is gone, session:* is new.
  for (let i = 10; i < 30; i++) await redis.set(`payments:${i}`, 'p'.repeat(100));
  for (let i = 0; i < 5; i++) await redis.del(`cache:${i}`);
  await redis.del('old:1');
  await redis.set('session:12345', 's');
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('keys stats --compare', () => {
  it('shows per pattern what changed since last week, most grown first, new and vanished ones too', async () => {
    const r = await runCli(['keys', 'stats', '--url', server.url, '--json', '--compare', lastWeek]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { at: string; comparison: { previous: string; previousAt: string; patterns: { pattern: string; status: string; countBefore: number | null; countNow: number | null; bytesGrowth: number | null }[]; failed: unknown[] } };
    expect(doc.comparison.previous).toBe(lastWeek);
    expect(doc.comparison.previousAt).toBe(JSON.parse(readFileSync(lastWeek, 'utf8')).at);
    expect(doc.comparison.patterns.map((p) => [p.pattern, p.status, p.countBefore, p.countNow])).toEqual([
      ['payments:*', 'grown', 10, 30], ['session:*', 'new', null, 1], ['old:*', 'vanished', 1, null], ['cache:*', 'shrunk', 10, 5],
    ]);
    expect(doc.comparison.patterns[0]!.bytesGrowth).toBe(2);
    expect(doc.comparison.failed).toEqual([]);
  });

  it('--fail-on-growth exits 1 for a rule broken (a named pattern, or the default for every pattern), 0 otherwise', async () => {
    const named = await runCli(['keys', 'stats', '--url', server.url, '--compare', lastWeek, '--fail-on-growth', 'payments:*=20%']);
    expect(named.code).toBe(1);
    expect(named.stdout).toMatch(/^growth rule broken: payments:\* grew \+200% \(--fail-on-growth payments:\*=20%\)$/m);
    // The default rule: every pattern present both weeks; a new one breaks only a rule that names it.
    expect((await runCli(['keys', 'stats', '--url', server.url, '--compare', lastWeek, '--fail-on-growth', '250%'])).code).toBe(0);
    const newOne = await runCli(['keys', 'stats', '--url', server.url, '--compare', lastWeek, '--fail-on-growth', 'session:*=0%', '--json']);
    expect(newOne.code).toBe(1);
    expect(JSON.parse(newOne.stdout).comparison.failed).toEqual([{ pattern: 'session:*', db: 0, bytesGrowth: null, rule: 'session:*=0%' }]);
  });

  it('--markdown writes the summary and the comparison for a ticket', async () => {
    const md = join(dir, 'report.md');
    const r = await runCli(['keys', 'stats', '--url', server.url, '--compare', lastWeek, '--markdown', md, '-q']);
    expect(r.code).toBe(0);
    const text = readFileSync(md, 'utf8');
    expect(text).toMatch(/^# keys stats: 127\.0\.0\.1:\d+\/0\n/);
    expect(text).toContain('| pattern | keys | memory | no TTL |');
    expect(text).toMatch(/\| payments:\* \| grown \| 10 → 30 \| .* \| \+200% \|/);
    expect(text).toContain(`## Since ${lastWeek}`);
  });

  it('bad input is exit 2 before any walk', async () => {
    const noCompare = await runCli(['keys', 'stats', '--url', server.url, '--fail-on-growth', '20%']);
    expect(noCompare).toMatchObject({ code: 2, stderr: 'error: --fail-on-growth needs --compare PREVIOUS.json\n' });
    const badRule = await runCli(['keys', 'stats', '--url', server.url, '--compare', lastWeek, '--fail-on-growth', 'lots']);
    expect(badRule.stderr).toBe("error: --fail-on-growth: \"lots\" is not PATTERN=N% or N% (e.g. 'payments:*=20%', or 25% for every pattern)\n");
    const missing = await runCli(['keys', 'stats', '--url', server.url, '--compare', join(dir, 'nope.json')]);
    expect(missing).toMatchObject({ code: 2, stderr: `error: --compare: cannot read ${join(dir, 'nope.json')} (ENOENT)\n` });
    const other = join(dir, 'other.json');
    writeFileSync(other, '{"queues": []}');
    const wrong = await runCli(['keys', 'stats', '--url', server.url, '--compare', other]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/not the --json output of keys stats/);
    expect(existsSync(join(dir, 'never.md'))).toBe(false);
  });
});
