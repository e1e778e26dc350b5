/** INFO text → field map (field names are unique across sections). */
export type InfoFields = Record<string, string>;

export function parseInfo(text: string): InfoFields {
  const out: InfoFields = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** "a=1,b=x" → { a: "1", b: "x" } (keyspace lines, replica lines, latency percentiles). */
export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export function num(info: InfoFields, field: string): number | null {
  const v = info[field];
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

export interface KeyspaceDb {
  db: number;
  keys: number;
  expires: number;
  avgTtlMs: number;
}

export function keyspace(info: InfoFields): KeyspaceDb[] {
  return Object.entries(info)
    .filter(([k]) => /^db\d+$/.test(k))
    .map(([k, v]) => {
      const kv = parseKv(v);
      return { db: Number(k.slice(2)), keys: Number(kv.keys ?? 0), expires: Number(kv.expires ?? 0), avgTtlMs: Number(kv.avg_ttl ?? 0) };
    })
    .sort((a, b) => a.db - b.db);
}

export interface ReplicaLine {
  address: string;
  state: string;
  offset: number;
  lagSec: number | null;
}

/** The replicas a master lists in INFO replication (slave0:ip=…,port=…,state=online,offset=…,lag=…). */
export function replicasOf(info: InfoFields): ReplicaLine[] {
  return Object.entries(info)
    .filter(([k]) => /^slave\d+$/.test(k))
    .map(([, v]) => {
      const kv = parseKv(v);
      return { address: `${kv.ip}:${kv.port}`, state: kv.state ?? 'unknown', offset: Number(kv.offset ?? 0), lagSec: kv.lag !== undefined ? Number(kv.lag) : null };
    });
}
