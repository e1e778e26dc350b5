import { UsageError } from '../../errors.js';
import { ROLES } from './roles.js';
import { isObject } from '../configShape.js';
import { parseDuration } from '../duration.js';
import { DEFAULT_FIELDS, QUEUE_SYSTEMS, type JobFields, type QueueSystem } from './model.js';

/**
 * The config file's `queues` (declared queues: no walk needed) and
 * `workers` (heartbeat layouts) sections. See README "Queues in the config file".
 */
export interface DeclaredQueue {
  name: string;
  system: QueueSystem;
  db?: number;
  prefix?: string;
  keys?: Record<string, string>;
  fields?: Partial<Record<keyof JobFields, string | string[]>>;
  maxRetries?: number;
}

export interface HeartbeatLayout {
  pattern: string;
  lastSeen: string;
  currentJob: string;
}

export interface WorkersConfig {
  heartbeats: HeartbeatLayout[];
  staleAfterMs?: number;
}

export const DEFAULT_HEARTBEATS: HeartbeatLayout[] = [
  { pattern: 'worker_status:*', lastSeen: 'last_seen', currentJob: 'current_job' },
  { pattern: 'worker:*:heartbeat', lastSeen: 'last_seen', currentJob: 'current_job' },
];

export function validateQueues(value: unknown, where: string): DeclaredQueue[] {
  if (!Array.isArray(value)) throw new UsageError(`${where} must be a list of {"name": "…", "system": "homegrown", "keys": {…}}`);
  return value.map((q, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(q) || typeof q.name !== 'string' || !q.name) throw new UsageError(`${at} needs a "name"`);
    const system = (q.system ?? 'homegrown') as QueueSystem;
    if (!QUEUE_SYSTEMS.includes(system)) throw new UsageError(`${at}.system must be one of ${QUEUE_SYSTEMS.join(', ')}`);
    for (const k of Object.keys(q)) {
      if (!['name', 'system', 'db', 'prefix', 'keys', 'fields', 'maxRetries', 'comment'].includes(k)) throw new UsageError(`${at}.${k} is not a queue field (name, system, db, prefix, keys, fields, maxRetries)`);
    }
    if (q.db !== undefined && !(Number.isInteger(q.db) && (q.db as number) >= 0)) throw new UsageError(`${at}.db must be a whole number ≥ 0`);
    if (q.maxRetries !== undefined && !(Number.isInteger(q.maxRetries) && (q.maxRetries as number) >= 0)) throw new UsageError(`${at}.maxRetries must be a whole number ≥ 0`);
    if (q.prefix !== undefined && typeof q.prefix !== 'string') throw new UsageError(`${at}.prefix must be a string`);
    if (q.keys !== undefined) {
      if (!isObject(q.keys)) throw new UsageError(`${at}.keys must be an object of role → key name`);
      for (const [role, key] of Object.entries(q.keys)) {
        const roles: readonly string[] = ROLES[system];
        if (!roles.includes(role)) throw new UsageError(`${at}.keys.${role} is not a ${system} role (${roles.join(', ')})`);
        if (typeof key !== 'string' || !key) throw new UsageError(`${at}.keys.${role} must be a key name`);
      }
    }
    if (q.fields !== undefined) {
      if (!isObject(q.fields)) throw new UsageError(`${at}.fields must be an object`);
      for (const [f, v] of Object.entries(q.fields)) {
        if (!(f in DEFAULT_FIELDS)) throw new UsageError(`${at}.fields.${f} is not a field setting (${Object.keys(DEFAULT_FIELDS).join(', ')})`);
        if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) throw new UsageError(`${at}.fields.${f} must be a field name`);
      }
    }
    return { ...q, system } as unknown as DeclaredQueue;
  });
}

export function validateWorkers(value: unknown, where: string): WorkersConfig {
  if (!isObject(value)) throw new UsageError(`${where} must be an object`);
  const out: WorkersConfig = { heartbeats: DEFAULT_HEARTBEATS };
  for (const [k, v] of Object.entries(value)) {
    if (k === 'heartbeats') {
      if (!Array.isArray(v)) throw new UsageError(`${where}.heartbeats must be a list of {"pattern", "lastSeen", "currentJob"}`);
      out.heartbeats = v.map((h, i) => {
        if (!isObject(h) || typeof h.pattern !== 'string') throw new UsageError(`${where}.heartbeats[${i}] needs a "pattern"`);
        return { pattern: h.pattern, lastSeen: String(h.lastSeen ?? 'last_seen'), currentJob: String(h.currentJob ?? 'current_job') };
      });
    } else if (k === 'staleAfter') {
      if (typeof v !== 'string') throw new UsageError(`${where}.staleAfter must be a duration such as "60s"`);
      out.staleAfterMs = parseDuration(v, `${where}.staleAfter`);
    } else if (k !== 'comment') throw new UsageError(`${where}.${k} is not a workers setting (heartbeats, staleAfter)`);
  }
  return out;
}
