import { UsageError } from '../../errors.js';
import { isObject } from '../configShape.js';

/** warn/crit levels of one check; null disables that level. Higher values are worse. */
export interface Levels {
  warn: number | null;
  crit: number | null;
}

/**
 * Defaults follow well-known alert rules: memory 70/90% of maxmemory
 * (Datadog), fragmentation > 1.4 with ≥ 100 MB of waste (active-defrag-ignore-bytes), replica link
 * silence 10/60 s (repl-ping-replica-period, repl-timeout), rejected
 * connections and a day without a save are critical.
 */
export const DEFAULT_THRESHOLDS = {
  ping: { warn: 100, crit: 1000 }, // ms
  memory: { warn: 70, crit: 90 }, // % of maxmemory
  rss: { warn: 80, crit: 90 }, // % of the host's memory
  fragmentation: { warn: 1.4, crit: null }, // ratio, when the waste is at least fragmentationWasteMb
  // Not a check: the waste (RSS beyond allocated memory) below which fragmentation is never graded.
  // Redis itself does not defragment below 100 MB (active-defrag-ignore-bytes).
  fragmentationWasteMb: { warn: 100, crit: null },
  evictedKeys: { warn: null, crit: null }, // since start; caches evict by design
  rejectedConnections: { warn: null, crit: 1 },
  clients: { warn: 80, crit: 95 }, // % of maxclients
  blockedClients: { warn: null, crit: null },
  lastSave: { warn: null, crit: 86_400 }, // s since the last successful save, with unsaved changes
  masterLink: { warn: 10, crit: 60 }, // s since the master was last heard (replicas)
  replicaLag: { warn: 10, crit: 60 }, // s, worst replica (masters)
  slowlog: { warn: 10, crit: null }, // new entries since the remembered id (--slowlog-state)
} satisfies Record<string, Levels>;

export type CheckName = keyof typeof DEFAULT_THRESHOLDS | 'persistence' | 'loading' | 'replicas' | 'cluster';
export type Thresholds = Record<keyof typeof DEFAULT_THRESHOLDS, Levels>;

export const CHECK_NAMES: CheckName[] = [
  'ping', 'memory', 'rss', 'fragmentation', 'evictedKeys', 'rejectedConnections', 'clients', 'blockedClients',
  'persistence', 'lastSave', 'loading', 'masterLink', 'replicas', 'replicaLag', 'cluster', 'slowlog',
];

export interface HealthConfig {
  thresholds?: Partial<Record<string, Partial<Levels>>>;
  expectReplicas?: number;
  only?: string[];
  skip?: string[];
}

export function validateHealth(value: unknown, where: string): HealthConfig {
  if (!isObject(value)) throw new UsageError(`${where} must be an object`);
  const out: HealthConfig = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'thresholds') {
      if (!isObject(v)) throw new UsageError(`${where}.thresholds must be an object`);
      out.thresholds = {};
      for (const [name, levels] of Object.entries(v)) {
        if (!Object.hasOwn(DEFAULT_THRESHOLDS, name)) throw new UsageError(`${where}.thresholds.${name} is not a check with thresholds (${Object.keys(DEFAULT_THRESHOLDS).join(', ')})`);
        if (!isObject(levels)) throw new UsageError(`${where}.thresholds.${name} must be {"warn": n, "crit": n}`);
        const l: Partial<Levels> = {};
        for (const [level, n] of Object.entries(levels)) {
          if (level !== 'warn' && level !== 'crit') throw new UsageError(`${where}.thresholds.${name}.${level}: only warn and crit`);
          if (n !== null && typeof n !== 'number') throw new UsageError(`${where}.thresholds.${name}.${level} must be a number or null`);
          l[level] = n as number | null;
        }
        out.thresholds[name] = l;
      }
    } else if (k === 'expectReplicas') {
      if (!Number.isInteger(v) || (v as number) < 0) throw new UsageError(`${where}.expectReplicas must be a whole number`);
      out.expectReplicas = v as number;
    } else if (k === 'only' || k === 'skip') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UsageError(`${where}.${k} must be a list of check names`);
      out[k] = validateCheckNames(v as string[], `${where}.${k}`);
    } else throw new UsageError(`${where}.${k} is not a health setting (thresholds, expectReplicas, only, skip)`);
  }
  return out;
}

export function validateCheckNames(names: string[], where: string): string[] {
  for (const n of names) {
    if (!(CHECK_NAMES as string[]).includes(n)) throw new UsageError(`${where}: "${n}" is not a check (${CHECK_NAMES.join(', ')})`);
  }
  return names;
}

/** Defaults, then the config file, then `--threshold name.level=value` flags. */
export function resolveThresholds(config: HealthConfig | undefined, flags: string[]): Thresholds {
  const t = structuredClone(DEFAULT_THRESHOLDS) as Thresholds;
  for (const [name, levels] of Object.entries(config?.thresholds ?? {})) Object.assign(t[name as keyof Thresholds], levels);
  for (const flag of flags) {
    const m = /^([A-Za-z]+)\.(warn|crit)=(.+)$/.exec(flag);
    if (!m || !Object.hasOwn(t, m[1]!)) throw new UsageError(`--threshold: "${flag}" must be CHECK.warn=N or CHECK.crit=N (checks: ${Object.keys(t).join(', ')})`);
    const v = m[3] === 'none' ? null : Number(m[3]);
    if (v !== null && !Number.isFinite(v)) throw new UsageError(`--threshold: "${m[3]}" is not a number (or none)`);
    t[m[1] as keyof Thresholds][m[2] as 'warn' | 'crit'] = v;
  }
  return t;
}
