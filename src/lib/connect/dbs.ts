import { keyspace, parseInfo } from '../info.js';
import type { Target } from './target.js';

/**
 * The logical databases a walking command covers: the connection's own, or
 * with --all-dbs every non-empty one (from INFO keyspace). A cluster has only
 * database 0: --all-dbs there says so and walks it, rather than failing.
 */
export async function databasesToWalk(target: Target, allDbs: boolean, warn: (m: string) => void): Promise<number[]> {
  if (!allDbs) return [target.db];
  if (target.mode === 'cluster') {
    warn(`${target.address} is a cluster, which has only database 0: --all-dbs walks database 0`);
    return [0];
  }
  const info = parseInfo(await target.client.info('keyspace'));
  return keyspace(info).filter((d) => d.keys > 0).map((d) => d.db);
}

/**
 * Runs `fn` against each database in turn, with a connection to it (the
 * target itself for its own database; a new connection, closed after, for
 * the others).
 */
export async function forEachDb<T>(target: Target, dbs: number[], fn: (t: Target, db: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const db of dbs) {
    const t = db === target.db ? target : await target.forDb(db);
    try {
      out.push(await fn(t, db));
    } finally {
      if (t !== target) await t.close();
    }
  }
  return out;
}
