import { UsageError } from '../errors.js';

/** --db-map FROM:TO,FROM:TO (restore and copy): source database → target database. */
export function parseDbMap(text: string | undefined): Map<number, number> {
  const map = new Map<number, number>();
  if (!text) return map;
  for (const part of text.split(',')) {
    const m = /^(\d+):(\d+)$/.exec(part.trim());
    if (!m) throw new UsageError(`--db-map: "${part}" is not FROM:TO (e.g. 0:3,1:4)`);
    if (map.has(Number(m[1]))) throw new UsageError(`--db-map: database ${m[1]} is mapped twice (${m[1]}:${map.get(Number(m[1]))} and ${m[1]}:${m[2]})`);
    map.set(Number(m[1]), Number(m[2]));
  }
  return map;
}
