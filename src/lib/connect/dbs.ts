import { keyspace, parseInfo } from '../info.js';
import type { Target } from './target.js';
import { formatCount } from '../numbers.js';

/**
 * The logical databases a walking command covers: the connection's own, or
 * with --all-dbs every non-empty one (from INFO keyspace). A cluster has only
 * database 0: --all-dbs there says so and walks it, rather than failing.
 */
export async function databasesToWalk(target: Target, allDbs: boolean, warn: (m: string) => void, opts: { mentionOthers?: boolean } = {}): Promise<number[]> {
  if (!allDbs) {
    // A report of "the keyspace" that silently leaves out other databases misleads.
    if (opts.mentionOthers && target.mode !== 'cluster') {
      const others = await otherDatabases(target);
      if (others.length) {
        const list = others.map((d) => `db ${d.db} (${formatCount(d.keys)} key${d.keys === 1 ? '' : 's'})`);
        const named = list.length > 1 ? `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}` : list[0];
        warn(`${named} ${others.length > 1 ? 'are' : 'is'} not included: --all-dbs`);
      }
    }
    return [target.db];
  }
  if (target.mode === 'cluster') {
    warn(`${target.address} is a cluster, which has only database 0: --all-dbs walks database 0`);
    return [0];
  }
  const info = parseInfo(await target.client.info('keyspace'));
  return keyspace(info).filter((d) => d.keys > 0).map((d) => d.db);
}

/** How many keys these databases hold (DBSIZE on every master; INFO keyspace for several databases): the total of a walk, for progress. */
export async function keysIn(target: Target, dbs: number[]): Promise<number | null> {
  try {
    if (target.mode === 'cluster' || (dbs.length === 1 && dbs[0] === target.db)) {
      const sizes = await Promise.all(target.masters().map((n) => n.client.dbsize()));
      return sizes.reduce((a, b) => a + b, 0);
    }
    return keyspace(parseInfo(await target.client.info('keyspace'))).filter((d) => dbs.includes(d.db)).reduce((a, d) => a + d.keys, 0);
  } catch {
    return null;
  }
}

/** Non-empty databases other than the target's own; none when INFO is not allowed. */
async function otherDatabases(target: Target): Promise<{ db: number; keys: number }[]> {
  try {
    return keyspace(parseInfo(await target.client.info('keyspace'))).filter((d) => d.keys > 0 && d.db !== target.db);
  } catch {
    return [];
  }
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
