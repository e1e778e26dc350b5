import { randomUUID } from 'node:crypto';
import { RedisOpsError } from '../errors.js';
import type { Target } from './connect/target.js';
import { formatDuration } from './duration.js';
import { loadScript, runScript } from './scripts/loader.js';

/** Another run holds the job's lock: this one did nothing (exit 1). */
export class SingleFlightBusy extends RedisOpsError {}

const LEASE_MS = 60_000;

/**
 * One run at a time of a job, across hosts: a lock in Redis under the job's
 * name, with a TTL so a crashed run frees it within a minute, renewed while
 * the run lasts, and released by compare-and-delete at the end.
 */
export async function acquireSingleFlight(target: Target, job: string): Promise<{ release(): Promise<void> }> {
  const key = `redis-ops:single-flight:${job}`;
  const token = `${process.pid}@${(await import('node:os')).hostname()}:${randomUUID()}`;
  const c = target.client;
  const ok = await c.set(key, token, 'PX', LEASE_MS, 'NX');
  if (ok !== 'OK') {
    const [holder, pttl] = await Promise.all([c.get(key), c.pttl(key)]);
    throw new SingleFlightBusy(`another run of "${job}" is in progress (${key} held by ${holder ?? 'unknown'}, lease ${pttl > 0 ? `${formatDuration(pttl)} left` : 'ending'}): this run did nothing`);
  }
  const renewScript = loadScript('lease-renew-1', target.serverVersion);
  const releaseScript = loadScript('lease-release-1', target.serverVersion);
  const renew = setInterval(() => {
    runScript(c, renewScript, [key], [token, LEASE_MS]).catch(() => undefined);
  }, LEASE_MS / 3);
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      await runScript(c, releaseScript, [key], [token]).catch(() => undefined);
    },
  };
}
