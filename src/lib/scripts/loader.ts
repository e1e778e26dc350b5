import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { versionAtLeast } from '../connect/target.js';

/**
 * Every Lua script lives in its own file here, named <operation>-<numberOfKeys>.lua,
 * and is run through this loader (EVALSHA, falling back to EVAL once per
 * connection). Servers before 7.0 do not know the `#!lua flags=` line, and do
 * not need it: the loader drops it for them.
 */
export interface Script {
  name: string;
  numberOfKeys: number;
  source: string;
  sha: string;
}

const cache = new Map<string, Script>();

export function loadScript(name: string, serverVersion: string | null): Script {
  const modern = versionAtLeast(serverVersion, '7.0.0') || serverVersion === null;
  const id = `${name}:${modern}`;
  let script = cache.get(id);
  if (!script) {
    let source = readFileSync(new URL(`./${name}.lua`, import.meta.url), 'utf8');
    if (!modern) source = source.replace(/^#!lua[^\n]*\n/, '');
    const numberOfKeys = Number(/-(\d+)$/.exec(name)?.[1] ?? 0);
    script = { name, numberOfKeys, source, sha: createHash('sha1').update(source).digest('hex') };
    cache.set(id, script);
  }
  return script;
}

type Arg = string | Buffer | number;

/** Runs a script and returns the raw reply with bulk strings as Buffers. */
export async function runScript(client: Redis | Cluster, script: Script, keys: Arg[], args: Arg[]): Promise<unknown> {
  try {
    return await client.callBuffer('EVALSHA', script.sha, keys.length, ...keys, ...args);
  } catch (e) {
    if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e;
    return client.callBuffer('EVAL', script.source, keys.length, ...keys, ...args);
  }
}
