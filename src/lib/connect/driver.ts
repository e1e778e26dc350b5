import type { Cluster, Command, Redis } from 'ioredis';

export interface Driver {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
  Command: typeof Command;
}

/**
 * ioredis, loaded on first use: it is the heaviest import of a run, and
 * `--version` or a usage error should not pay for it. Its CommonJS exports
 * arrive under `default` in the bundle and as names under plain Node.
 */
export async function loadDriver(): Promise<Driver> {
  const mod = (await import('ioredis')) as unknown as Driver & { default?: Driver };
  return mod.default?.Redis ? mod.default : mod;
}
