import { Redis } from 'ioredis';
import { startCluster, startSentinel, startServer, type LocalCluster, type LocalServer } from '../../src/lib/sandbox/server.js';

export { startCluster, startSentinel, startServer };
export type { LocalCluster, LocalServer };

/** A plain client for arranging and checking data in tests. */
export function clientFor(server: { port: number }, db = 0, password?: string): Redis {
  // No CLIENT SETINFO (unknown before 7.2): the test's own connections add nothing to the errorstats tests read.
  return new Redis({ port: server.port, host: '127.0.0.1', db, password, lazyConnect: false, maxRetriesPerRequest: 1, disableClientInfo: true });
}

/** Sorted list of all keys (as binary strings) in one server's db, via SCAN. */
export async function allKeys(client: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scanBuffer(cursor, 'COUNT', 1000);
    cursor = next.toString();
    keys.push(...batch.map((b) => b.toString('latin1')));
  } while (cursor !== '0');
  return keys.sort();
}

/**
 * Gives a key an idle time (OBJECT IDLETIME) of `seconds`, deterministically:
 * RESTORE … IDLETIME sets it, where sleeping would make a test depend on timing.
 */
export async function makeIdle(client: Redis, key: string, seconds: number): Promise<void> {
  const payload = await client.dumpBuffer(key);
  await client.call('RESTORE', key, 0, payload, 'REPLACE', 'IDLETIME', seconds);
}

/** Runs `fn` while the server is stopped (SIGSTOP: it accepts connections and answers nothing), and always resumes it. */
export async function whileStopped<T>(server: { process: { kill(signal: NodeJS.Signals): boolean } }, fn: () => Promise<T>): Promise<T> {
  server.process.kill('SIGSTOP');
  try {
    return await fn();
  } finally {
    server.process.kill('SIGCONT');
  }
}
