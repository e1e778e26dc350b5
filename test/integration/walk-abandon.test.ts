/**
 * A walk left midway (its caller failed and returned) must not leave reads
 * whose failure nobody awaits: such a rejection reaches the process's last
 * net, which exits at once, before the caller has closed its undo backup
 * (seen once in CI: `ttl cleanup --backup` on a server that stopped
 * answering left the undo file half-named).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor, startServer, whileStopped, type LocalServer } from '../helpers/redis.js';
import { openTarget } from '../../src/lib/connect/target.js';
import { resolveConnection } from '../../src/lib/connect/spec.js';
import { walkKeys } from '../../src/lib/scan/walk.js';

let server: LocalServer;

beforeAll(async () => {
  server = await startServer();
  const c = clientFor(server);
  for (let i = 0; i < 20_000; i += 1000) {
    const p = c.pipeline();
    for (let j = i; j < i + 1000; j++) p.set(`k:${j}`, 'v');
    await p.exec();
  }
  c.disconnect();
});
afterAll(async () => { await server.stop(); });

describe('a walk left midway', () => {
  it('leaves no read whose failure goes unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const target = await openTarget(await resolveConnection({ url: server.url, timeout: '300ms' }, { env: {}, config: { path: null, profiles: {}, sections: {} }, warn: () => {} }));
    try {
      const walk = walkKeys(target, { count: 100, probe: { type: true, ttl: true } });
      const first = await walk.next();
      expect(first.done).toBe(false);
      await whileStopped(server, async () => {
        // Pages read ahead of the first (the next SCAN, probes in flight) fail while nobody waits for them.
        for (let i = 0; i < 3; i++) await walk.next().catch(() => undefined);
        await walk.return(undefined);
        await new Promise((r) => setTimeout(r, 1000));
      });
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await target.close();
    }
    expect(unhandled).toEqual([]);
  });
});
