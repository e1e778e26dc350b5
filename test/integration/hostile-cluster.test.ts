/**
 * A cluster node that hangs or dies under a walk (issue 13, item 14): one
 * line naming that node, no stack, no partial file left behind. Written to
 * fail on the code before the fix.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startCluster, whileStopped, type LocalCluster } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';

let cluster: LocalCluster;
const dir = mkdtempSync(join(tmpdir(), 'ro-hostile-cluster-'));

beforeAll(async () => {
  // Live nodes keep serving their own slots while one is down: the failure
  // to report is the dead node's, not a cluster-wide CLUSTERDOWN.
  cluster = await startCluster(3, ['--cluster-require-full-coverage', 'no']);
  const c = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
  for (let i = 0; i < 3000; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => c.set(`k:${i + j}`, `v${i + j}`)));
  }
  c.disconnect();
}, 60_000);
afterAll(async () => {
  await cluster.stop();
});

const seed = () => `redis://127.0.0.1:${cluster.nodes[0].port}`;

function expectOneLineNaming(stderr: string, node: string) {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toContain(node);
  expect(stderr).not.toMatch(/\s+at .*\(|Node\.js v/);
  expect(stderr.length).toBeLessThan(400);
}

const walks = (file: string): string[][] => [
  ['keys', 'stats'],
  ['ttl', 'audit'],
  ['backup', '-o', file],
  ['keys', 'delete', 'k:*', '--dry-run'],
  ['memory'],
];

describe('a hung master (SIGSTOP) is named, not the seed', () => {
  it('every walk fails with one line naming the stopped node', async () => {
    const hung = cluster.nodes[2];
    await whileStopped(hung, async () => {
      const file = join(dir, 'hung.jsonl');
      for (const args of walks(file)) {
        const r = await runCli([...args, '--url', seed(), '--timeout', '1s']);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expectOneLineNaming(r.stderr, `127.0.0.1:${hung.port} did not answer within 1000 ms`);
      }
      expect(existsSync(file)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.startsWith('hung.jsonl'))).toEqual([]);
    });
  });
});

describe('a killed master (SIGKILL) is named', () => {
  it('every walk fails with one line naming the dead node; no partial backup', async () => {
    const dead = cluster.nodes[2];
    dead.process.kill('SIGKILL');
    const file = join(dir, 'dead.jsonl');
    for (const args of walks(file)) {
      const r = await runCli([...args, '--url', seed(), '--timeout', '2s']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expectOneLineNaming(r.stderr, `127.0.0.1:${dead.port}`);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('dead.jsonl'))).toEqual([]);
  });
});
