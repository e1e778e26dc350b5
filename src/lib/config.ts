import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { SECTIONS, type ConfigSections } from './configSections.js';
import { isObject } from './configShape.js';
import { PROFILE_FIELDS, type ProfileConfig, type ProfileKind } from './connect/fields.js';

/**
 * The config file: named connection profiles now; later capabilities add
 * their own top-level sections (queues, workers, locks, ttlRules, health) by
 * adding a validator to SECTIONS (configSections.ts). Unknown fields are errors so that typos surface.
 */
export type { ProfileConfig } from './connect/fields.js';

export interface RedisOpsConfig {
  path: string | null;
  defaultProfile?: string;
  profiles: Record<string, ProfileConfig>;
  sections: ConfigSections;
  /** Said once on stderr by the command runner (a secret readable by others). */
  warnings?: string[];
}

export function configError(file: string, field: string, problem: string): UsageError {
  return new UsageError(`config ${file}: ${field} ${problem}`);
}

export function findConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv): { path: string; required: boolean } | null {
  if (explicit) return { path: resolve(explicit), required: true };
  if (env.REDIS_OPS_CONFIG) return { path: resolve(env.REDIS_OPS_CONFIG), required: true };
  const local = resolve('redis-ops.json');
  if (existsSync(local)) return { path: local, required: false };
  const xdg = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  const user = join(xdg, 'redis-ops', 'config.json');
  if (existsSync(user)) return { path: user, required: false };
  return null;
}

export function loadConfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): RedisOpsConfig {
  const found = findConfigPath(explicit, env);
  if (!found) return { path: null, profiles: {}, sections: {} };
  let text: string;
  try {
    text = readFileSync(found.path, 'utf8');
  } catch (e) {
    throw new UsageError(`config ${found.path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config ${found.path}: not valid JSON (${(e as Error).message})`);
  }
  const config = validateConfig(raw, found.path);
  const secret = Object.values(config.profiles).some((p) => p.password !== undefined || urlHasPassword(p.url));
  // As ssh does for keys: a password others can read is one leak away.
  if (secret && (statSync(found.path).mode & 0o077) !== 0) {
    config.warnings = [`warning: ${found.path} holds a password and is readable by other users: chmod 600 ${found.path}`];
  }
  return config;
}

export function validateConfig(raw: unknown, file: string): RedisOpsConfig {
  if (!isObject(raw)) throw configError(file, 'the top level', 'must be a JSON object');
  const config: RedisOpsConfig = { path: file, profiles: {}, sections: {} };
  for (const [name, value] of Object.entries(raw)) {
    if (name === '$schema' || name === 'comment') continue;
    if (name === 'profiles') config.profiles = validateProfiles(value, file);
    else if (name === 'defaultProfile') {
      if (typeof value !== 'string') throw configError(file, 'defaultProfile', 'must be a string');
      config.defaultProfile = value;
    } else if (isSection(name)) (config.sections as Record<string, unknown>)[name] = SECTIONS[name](value, `config ${file}: ${name}`);
    else {
      const known = ['profiles', 'defaultProfile', ...Object.keys(SECTIONS)].join(', ');
      throw configError(file, name, `is not a known section (known: ${known})`);
    }
  }
  if (config.defaultProfile && !Object.hasOwn(config.profiles, config.defaultProfile)) {
    throw configError(file, 'defaultProfile', `names "${config.defaultProfile}", which is not in profiles`);
  }
  return config;
}

function validateProfiles(value: unknown, file: string): Record<string, ProfileConfig> {
  if (!isObject(value)) throw configError(file, 'profiles', 'must be an object of name → profile');
  // No prototype: a profile named "__proto__" or "constructor" is just a name.
  const out: Record<string, ProfileConfig> = Object.create(null);
  for (const [name, profile] of Object.entries(value)) {
    const where = `profiles.${name}`;
    if (!isObject(profile)) throw configError(file, where, 'must be an object');
    const p: Record<string, unknown> = {};
    for (const [field, v] of Object.entries(profile)) {
      const kind = Object.hasOwn(PROFILE_FIELDS, field) ? PROFILE_FIELDS[field] : undefined;
      if (!kind) throw configError(file, `${where}.${field}`, `is not a profile field (known: ${Object.keys(PROFILE_FIELDS).join(', ')})`);
      checkField(file, `${where}.${field}`, kind, v);
      p[field] = v;
    }
    out[name] = p as ProfileConfig;
  }
  return out;
}

function checkField(file: string, where: string, kind: ProfileKind, v: unknown): void {
  const ok =
    kind === 'string' ? typeof v === 'string' :
    kind === 'boolean' ? typeof v === 'boolean' :
    kind === 'port' ? Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 :
    Number.isInteger(v) && (v as number) >= 0;
  if (!ok) {
    const expected = kind === 'port' ? 'a whole number from 1 to 65535' : kind === 'db' ? 'a whole number ≥ 0' : `a ${kind}`;
    throw configError(file, where, `must be ${expected}`);
  }
}

function urlHasPassword(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

function isSection(name: string): name is keyof typeof SECTIONS {
  return Object.hasOwn(SECTIONS, name);
}
