/**
 * HTML reports (issue 21), opened in a real headless Chromium: the charts are
 * read from the rendered page, not from the HTML source. Set
 * REDIS_OPS_SCREENSHOTS=DIR to keep a screenshot of each report there (the
 * ones in docs/img were made so).
 */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Redis } from 'ioredis';
import { clientFor, startServer, type LocalServer } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ro-html-'));
const shots = process.env.REDIS_OPS_SCREENSHOTS;
let server: LocalServer;
let redis: Redis;
let browser: Browser;
const EVIL = '<script>alert(1)</script>\x1b[2J';

beforeAll(async () => {
  server = await startServer();
  redis = clientFor(server);
  const p = redis.pipeline();
  for (let i = 0; i < 300; i++) p.set(`user:${i}:profile`, 'u'.repeat(200));
  for (let i = 0; i < 120; i++) p.set(`session:${i}`, 's'.repeat(60), 'EX', 3600);
  for (let i = 0; i < 40; i++) p.hset(`job:${i}`, 'status', 'done', 'payload', 'j'.repeat(500));
  p.rpush('events:log', ...Array.from({ length: 3000 }, (_, i) => `event-${i}`));
  p.set(EVIL, 'x');
  await p.exec();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  redis.disconnect();
  await server.stop();
});

/** Opens a report as a reader would (file://), recording console errors, page errors, dialogs and every request. */
async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[]; dialogs: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  await page.goto(pathToFileURL(file).href);
  return { page, errors, requests, dialogs };
}

describe('HTML reports in Chromium', () => {
  it('keys stats: one treemap rectangle per pattern, areas in proportion to memory; top key shown; tables sort; nothing fetched', async () => {
    const prev = join(dir, 'prev.json');
    const first = await runCli(['keys', 'stats', '--url', server.url, '--json']);
    writeFileSync(prev, first.stdout);
    await redis.set('user:999:profile', 'u'.repeat(5000));
    const file = join(dir, 'stats.html');
    const r = await runCli(['keys', 'stats', '--url', server.url, '--json', '--html', file, '--compare', prev]);
    expect(r.code, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout) as { groups: { pattern: string; bytes: number }[]; topByMemory: { key: string }[] };
    expect(statSync(file).size).toBeLessThan(1_000_000);
    const { page, errors, requests, dialogs } = await open(file);
    const rects = await page.$$eval('svg.treemap rect.pattern', (els) => els.map((e) => {
      const b = e.getBoundingClientRect();
      return { pattern: e.getAttribute('data-pattern'), bytes: Number(e.getAttribute('data-bytes')), area: b.width * b.height };
    }));
    expect(rects.map((x) => x.pattern).sort()).toEqual(stats.groups.filter((g) => g.bytes > 0).map((g) => g.pattern).sort());
    const ratios = rects.map((x) => x.area / x.bytes);
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeLessThan(1.02);
    expect(await page.textContent('table.topkeys')).toContain(stats.topByMemory[0]!.key);
    expect(await page.textContent('table.comparison')).toContain('user:*:profile');
    // The key named like a script is text, escaped: no dialog, no script.
    expect(await page.textContent('body')).toContain('<script>alert(1)</script>\\x1b[2J');
    // Click "keys" in the patterns table: the biggest count comes first, then the smallest.
    const keysHeader = page.locator('table.patterns th', { hasText: 'keys' });
    await keysHeader.click();
    const firstCount = async () => Number((await page.locator('table.patterns tbody tr >> nth=0 >> td >> nth=1').textContent())!.replace(/,/g, ''));
    expect(await firstCount()).toBe(301);
    await keysHeader.click();
    expect(await firstCount()).toBe(1);
    if (shots) await page.screenshot({ path: join(shots, 'keys-stats.png'), fullPage: true });
    // Readable in dark mode (the page follows the reader's scheme), and printable.
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background()).toBe('rgb(255, 255, 255)');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).toBe('rgb(22, 25, 29)');
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    await page.close();
  });

  it('memory: the breakdown per node, the doctor\'s advice, the patterns that hold the memory', async () => {
    const file = join(dir, 'memory.html');
    const r = await runCli(['memory', '--url', server.url, '--html', file, '-q']);
    expect(r.code, r.stderr).toBe(0);
    const { page, errors, requests } = await open(file);
    const parts = await page.$$eval('svg.breakdown rect.part', (els) => els.map((e) => ({ label: e.getAttribute('data-label'), width: e.getBoundingClientRect().width })));
    expect(parts.map((p) => p.label)).toContain('dataset');
    expect(parts.every((p) => p.width > 0)).toBe(true);
    expect(await page.textContent('body')).toContain('MEMORY DOCTOR');
    expect(await page.$$eval('svg.treemap rect.pattern', (els) => els.length)).toBeGreaterThanOrEqual(4);
    if (shots) await page.screenshot({ path: join(shots, 'memory.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    await page.close();
  });

  it('health: every check of every node, coloured by status, with its thresholds', async () => {
    const file = join(dir, 'health.html');
    const r = await runCli(['health', '--url', server.url, '--html', file, '--format', 'json']);
    const report = JSON.parse(r.stdout) as { checks: { name: string; status: string }[] };
    const { page, errors, requests } = await open(file);
    const rows = await page.$$eval('table.checks tbody tr', (trs) => trs.map((tr) => ({ check: tr.children[1]!.textContent, status: tr.children[2]!.querySelector('span')!.className })));
    expect(rows).toEqual(report.checks.map((c) => ({ check: c.name, status: c.status })));
    const colours = await page.$$eval('table.checks tbody span.ok', (els) => els.map((e) => getComputedStyle(e).color));
    expect(new Set(colours).size).toBe(1);
    if (shots) await page.screenshot({ path: join(shots, 'health.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    await page.close();
  });
});
