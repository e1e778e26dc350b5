import calculateSlot from 'cluster-key-slot';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { loadDriver } from '../connect/driver.js';
import { versionAtLeast } from '../connect/target.js';

/**
 * Every Lua script lives in its own file here, named <operation>-<numberOfKeys>.lua,
 * and is run through this loader (EVAL the first time on a connection, then
 * EVALSHA; see sendWhole). Servers before 7.0 do not know the `#!lua flags=`
 * line, and do not need it: the loader drops it for them.
 */
export interface Script {
  name: string;
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
    script = { name, source, sha: createHash('sha1').update(source).digest('hex') };
    cache.set(id, script);
  }
  return script;
}

type Arg = string | Buffer | number;

/** The scripts each connection has sent whole (EVAL), by sha. */
const sent = new WeakMap<Redis | Cluster, Set<string>>();

/**
 * Whether this call sends the script whole (EVAL) rather than by its sha
 * (EVALSHA). A connection's first call of a script sends it whole: EVALSHA
 * of a script the server does not hold would be refused with NOSCRIPT, and
 * that error counts in the server's errorstats, which monitoring alerts on.
 * A cluster connection always sends it whole: each node has its own script
 * cache, and which node answers is the driver's choice. The server then
 * hashes the body again, a few µs per call of hundreds of keys.
 */
function sendWhole(client: Redis | Cluster, script: Script): boolean {
  if (client.isCluster) return true;
  let scripts = sent.get(client);
  if (!scripts) sent.set(client, (scripts = new Set()));
  if (scripts.has(script.sha)) return false;
  scripts.add(script.sha);
  return true;
}

/** Runs a script and returns the raw reply with bulk strings as Buffers. */
export async function runScript(client: Redis | Cluster, script: Script, keys: Arg[], args: Arg[]): Promise<unknown> {
  if (sendWhole(client, script)) return client.callBuffer('EVAL', script.source, keys.length, ...keys, ...args);
  try {
    return await client.callBuffer('EVALSHA', script.sha, keys.length, ...keys, ...args);
  } catch (e) {
    // The server lost it (SCRIPT FLUSH, a restart behind a proxy).
    if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e;
    return client.callBuffer('EVAL', script.source, keys.length, ...keys, ...args);
  }
}

/**
 * Runs a script whose arguments are many Buffers (a restore batch: a hundred
 * keys and one packed argument), encoding the whole command in one buffer:
 * ioredis's encoding of each argument separately costs more per key than the
 * script does. Same reply and fallback as runScript; on a cluster the command
 * goes to the first key's slot (the caller keeps a batch within one slot).
 */
export async function runScriptEncoded(client: Redis | Cluster, script: Script, keys: Buffer[], args: Buffer[]): Promise<unknown> {
  const { Command } = await loadDriver();
  const send = (name: 'EVALSHA' | 'EVAL', body: string) => {
    const cmd = new Command(name.toLowerCase(), [], { replyEncoding: null });
    const wire = encodeCommand([name, body, String(keys.length)], [...keys, ...args]);
    // ioredis asks the command for its bytes when it writes it (again after a redirection), and routes by its slot.
    cmd.toWritable = () => wire;
    (cmd as unknown as { slot: number | null }).slot = keys.length ? calculateSlot(keys[0]!) : null;
    client.sendCommand(cmd);
    return cmd.promise;
  };
  if (sendWhole(client, script)) return send('EVAL', script.source);
  try {
    return await send('EVALSHA', script.sha);
  } catch (e) {
    if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e;
    return send('EVAL', script.source);
  }
}

/** A command in RESP: text arguments, then Buffer arguments. */
function encodeCommand(words: string[], buffers: Buffer[]): Buffer {
  let head = `*${words.length + buffers.length}\r\n`;
  for (const w of words) head += `$${Buffer.byteLength(w)}\r\n${w}\r\n`;
  let size = Buffer.byteLength(head);
  for (const b of buffers) size += b.length + 16;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0);
  for (const b of buffers) {
    at += out.write(`$${b.length}\r\n`, at, 'latin1');
    at += b.copy(out, at);
    out[at++] = 13;
    out[at++] = 10;
  }
  return out.subarray(0, at);
}
