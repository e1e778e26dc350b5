import type { Redis } from 'ioredis';
import type { NodeHandle, Target } from '../connect/target.js';
import { splitAddress } from '../connect/nodes.js';
import { globToRegExp, keyMatches } from '../glob.js';
import { parseInfo } from '../info.js';
import { keyJson, utf8OrNull } from '../keyname.js';
import { inferKeyPattern } from '../keys/pattern.js';
import { TopN } from '../keys/topN.js';
import { Pace } from '../pace.js';
import { walkKeys } from '../scan/walk.js';
import { runMonitor, type MonitorLine } from './monitor.js';

/**
 * The most accessed keys across every primary, each node read the best way
 * it allows: its own HOTKEYS tracking (Redis 8.6+), the LFU counters
 * (OBJECT FREQ, under an LFU maxmemory-policy), or a bounded sample of
 * MONITOR, which also gives the command mix.
 */
export type HotMethod = 'hotkeys' | 'lfu' | 'monitor';

export interface HotKey {
  key?: string;
  key64?: string;
  node: string;
  /** Operations on the key in the sample (MONITOR); null for the other methods. */
  ops: number | null;
  opsPerSec: number | null;
  /** Its share of all key operations sampled on its node (MONITOR), of CPU time (HOTKEYS), or null (LFU). */
  share: number | null;
  /** LFU: the logarithmic access counter (0–255). */
  freq?: number;
  /** HOTKEYS: CPU microseconds and network bytes spent on the key. */
  cpuUs?: number;
  netBytes?: number;
}

export interface HotReport {
  method: Record<string, HotMethod | 'refused' | 'unreachable'>;
  /** Why a node used the method it did, or could not be read. */
  notes: Record<string, string>;
  durationSec: number;
  keys: HotKey[];
  commands: { command: string; ops: number; opsPerSec: number; share: number }[];
  patterns: { pattern: string; ops: number; opsPerSec: number; share: number }[];
  sampled: { lines: number; bytes: number; stoppedBy: string | null };
}

export interface HotOptions {
  method: HotMethod | 'auto';
  top: number;
  /** MONITOR: how long (ms) and how many bytes of its output at most. */
  durationMs: number;
  maxBytes: number;
  /** Only keys matching this glob (the LFU walk's MATCH; a filter on the MONITOR sample). */
  match?: string;
  count: number;
  rate?: number;
  signal?: AbortSignal;
  separator: string;
  depth: number;
}

/** The method each primary supports, best first (read-only: COMMAND INFO and INFO memory). */
export async function chooseMethods(target: Target, wanted: HotOptions['method']): Promise<Map<NodeHandle, HotMethod>> {
  const out = new Map<NodeHandle, HotMethod>();
  for (const node of target.masters()) {
    if (wanted !== 'auto') { out.set(node, wanted); continue; }
    const native = await node.client.call('COMMAND', 'INFO', 'HOTKEYS').then((r) => Array.isArray(r) && r[0] !== null, () => false);
    if (native) { out.set(node, 'hotkeys'); continue; }
    const policy = parseInfo(String(await node.client.call('INFO', 'memory'))).maxmemory_policy ?? '';
    out.set(node, policy.includes('lfu') ? 'lfu' : 'monitor');
  }
  return out;
}

const WHY: Record<HotMethod, string> = {
  hotkeys: 'the server\'s own HOTKEYS tracking (Redis 8.6+): ranked by CPU time, then network bytes',
  lfu: 'an LFU maxmemory-policy: OBJECT FREQ of every key (a logarithmic counter, 0–255)',
  monitor: 'a bounded MONITOR sample: operations per key, command and pattern',
};

export async function hotKeys(target: Target, methods: Map<NodeHandle, HotMethod>, opts: HotOptions): Promise<HotReport> {
  const report: HotReport = { method: {}, notes: {}, durationSec: 0, keys: [], commands: [], patterns: [], sampled: { lines: 0, bytes: 0, stoppedBy: null } };
  for (const [node, m] of methods) {
    report.method[node.address] = m;
    report.notes[node.address] = WHY[m];
  }
  const started = Date.now();
  const by = (m: HotMethod) => [...methods].filter(([, x]) => x === m).map(([n]) => n);
  const [lfu, native, monitor] = await Promise.all([
    by('lfu').length ? lfuWalk(target, new Set(by('lfu').map((n) => n.address)), opts) : [],
    Promise.all(by('hotkeys').map((n) => nativeHotkeys(n, opts))),
    by('monitor').length ? monitorSample(target, by('monitor'), opts, report) : null,
  ]);
  report.durationSec = Math.round((Date.now() - started) / 100) / 10;
  const keys = [...lfu, ...native.flat(), ...(monitor?.keys ?? [])];
  keys.sort((a, b) => (b.ops ?? b.cpuUs ?? b.freq ?? 0) - (a.ops ?? a.cpuUs ?? a.freq ?? 0) || (a.key ?? a.key64 ?? '').localeCompare(b.key ?? b.key64 ?? ''));
  report.keys = keys.slice(0, opts.top);
  if (monitor) {
    report.commands = monitor.commands;
    report.patterns = monitor.patterns;
  }
  return report;
}

/** LFU: OBJECT FREQ of every key on the LFU primaries, with the walk engine's pages and an optional rate. */
async function lfuWalk(target: Target, nodes: Set<string>, opts: HotOptions): Promise<HotKey[]> {
  const top = new TopN<HotKey>(opts.top);
  const pace = new Pace(opts.rate);
  for await (const batch of walkKeys(target, { match: opts.match, count: opts.count, signal: opts.signal })) {
    const node = batch.handle!;
    if (!nodes.has(node.address) || !batch.keys.length) continue;
    await pace.take(batch.keys.length, opts.signal);
    const p = node.client.pipeline();
    for (const k of batch.keys) p.call('OBJECT', 'FREQ', k.key);
    const replies = (await p.exec()) ?? [];
    batch.keys.forEach((k, i) => {
      const [err, freq] = replies[i] ?? [null, null];
      if (err || freq === null) return; // gone since the page was read
      top.offer(Number(freq), () => ({ ...keyJson(k.key), node: node.address, ops: null, opsPerSec: null, share: null, freq: Number(freq) }));
    });
  }
  return top.result();
}

/**
 * Redis 8.6+'s own tracking: HOTKEYS START … DURATION, then GET, STOP and
 * RESET. It ranks by CPU time and network bytes, not by operations.
 */
async function nativeHotkeys(node: NodeHandle, opts: HotOptions): Promise<HotKey[]> {
  const seconds = Math.max(1, Math.round(opts.durationMs / 1000));
  const c = node.client;
  await c.call('HOTKEYS', 'START', 'METRICS', '2', 'CPU', 'NET', 'COUNT', String(opts.top), 'DURATION', String(seconds));
  try {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, seconds * 1000);
      opts.signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
    const reply = await c.callBuffer('HOTKEYS', 'GET');
    return parseHotkeysReply(reply, node.address);
  } finally {
    await c.call('HOTKEYS', 'STOP').catch(() => undefined);
    await c.call('HOTKEYS', 'RESET').catch(() => undefined);
  }
}

/** HOTKEYS GET's flat field/value reply: by-cpu-time-us and by-net-bytes are key/value lists. */
export function parseHotkeysReply(reply: unknown, node: string): HotKey[] {
  if (!Array.isArray(reply)) return [];
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  const pairs = (name: string) => {
    const v = fields.get(name);
    const out = new Map<string, { key: Buffer; n: number }>();
    if (Array.isArray(v)) for (let i = 0; i + 1 < v.length; i += 2) out.set(Buffer.from(v[i] as Buffer).toString('latin1'), { key: Buffer.from(v[i] as Buffer), n: Number(v[i + 1]) });
    return out;
  };
  const cpu = pairs('by-cpu-time-us');
  const net = pairs('by-net-bytes');
  const totalCpu = Number(fields.get('all-commands-all-slots-us') ?? 0);
  const keys = new Map([...cpu, ...net].map(([id, { key }]) => [id, key]));
  return [...keys].map(([id, key]) => {
    const cpuUs = cpu.get(id)?.n ?? 0;
    return {
      ...keyJson(key), node, ops: null, opsPerSec: null, share: totalCpu ? Math.round((cpuUs / totalCpu) * 1000) / 1000 : null,
      cpuUs, netBytes: net.get(id)?.n ?? 0,
    };
  }).sort((a, b) => b.cpuUs - a.cpuUs || b.netBytes - a.netBytes);
}

interface CommandKeys { first: number; last: number; step: number }

/** Where each command's keys are (COMMAND: first key, last key, step), read once per node before MONITOR starts. */
async function keyPositions(client: Redis): Promise<Map<string, CommandKeys>> {
  const all = (await client.call('COMMAND')) as unknown[][];
  return new Map(all.map((c) => [String(c[0]).toLowerCase(), { first: Number(c[3]), last: Number(c[4]), step: Number(c[5]) }]));
}

/** The keys a command names (EVAL-like commands: after numkeys). */
export function keysOf(args: Buffer[], positions: Map<string, CommandKeys>): Buffer[] {
  const name = args[0]?.toString('latin1').toLowerCase() ?? '';
  if (/^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/.test(name)) {
    const n = Number(args[2]?.toString('latin1'));
    return Number.isInteger(n) && n > 0 ? args.slice(3, 3 + n) : [];
  }
  const p = positions.get(name);
  if (!p || p.first <= 0) return [];
  const last = p.last < 0 ? args.length + p.last : p.last;
  const out: Buffer[] = [];
  for (let i = p.first; i <= last && i < args.length; i += Math.max(1, p.step)) out.push(args[i]!);
  return out;
}

/** MONITOR on every sampled primary at once, for the duration or the byte budget. */
async function monitorSample(target: Target, nodes: NodeHandle[], opts: HotOptions, report: HotReport) {
  const only = opts.match ? globToRegExp(opts.match) : null;
  const keyOps = new Map<string, { key: Buffer; node: string; ops: number }>();
  const commandOps = new Map<string, number>();
  const nodeOps = new Map<string, number>();
  let totalCommands = 0;
  const started = Date.now();
  await Promise.all(nodes.map(async (node) => {
    const [host, port] = splitAddress(node.address);
    let conn: Redis;
    try {
      conn = await target.connectNode(host, port);
    } catch (e) {
      report.method[node.address] = 'unreachable';
      report.notes[node.address] = target.failAt(node.address, e).message.split('\n')[0]!;
      return;
    }
    const positions = await keyPositions(conn);
    try {
      const run = await runMonitor(conn, { durationMs: opts.durationMs, maxBytes: opts.maxBytes, signal: opts.signal }, (line: MonitorLine) => {
        const command = line.args[0]?.toString('latin1').toUpperCase() ?? '';
        if (command === 'MONITOR') return;
        totalCommands++;
        commandOps.set(command, (commandOps.get(command) ?? 0) + 1);
        for (const k of keysOf(line.args, positions)) {
          if (only && !keyMatches(k, [only])) continue;
          const id = `${node.address}\u0000${k.toString('latin1')}`;
          const e = keyOps.get(id);
          if (e) e.ops++;
          else keyOps.set(id, { key: k, node: node.address, ops: 1 });
          nodeOps.set(node.address, (nodeOps.get(node.address) ?? 0) + 1);
        }
      });
      report.sampled.lines += run.lines;
      report.sampled.bytes += run.bytes;
      report.sampled.stoppedBy = report.sampled.stoppedBy === 'max-bytes' ? 'max-bytes' : run.stoppedBy;
    } catch (e) {
      report.method[node.address] = 'refused';
      report.notes[node.address] = `MONITOR refused: ${(e as Error).message.split('\n')[0]} (an ACL user needs +monitor; managed services often disable it)`;
    }
  }));
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const perSec = (n: number) => Math.round((n / seconds) * 10) / 10;
  const share = (n: number, of: number) => (of ? Math.round((n / of) * 1000) / 1000 : 0);
  const top = new TopN<HotKey>(opts.top);
  for (const e of keyOps.values()) top.offer(e.ops, () => ({ ...keyJson(e.key), node: e.node, ops: e.ops, opsPerSec: perSec(e.ops), share: share(e.ops, nodeOps.get(e.node) ?? 0) }));
  const patterns = new Map<string, number>();
  let keyTotal = 0;
  for (const e of keyOps.values()) {
    const pattern = inferKeyPattern(utf8OrNull(e.key) ?? e.key.toString('latin1'), { separator: opts.separator, depth: opts.depth });
    patterns.set(pattern, (patterns.get(pattern) ?? 0) + e.ops);
    keyTotal += e.ops;
  }
  return {
    keys: top.result(),
    commands: [...commandOps].map(([command, ops]) => ({ command, ops, opsPerSec: perSec(ops), share: share(ops, totalCommands) })).sort((a, b) => b.ops - a.ops || a.command.localeCompare(b.command)).slice(0, opts.top),
    patterns: [...patterns].map(([pattern, ops]) => ({ pattern, ops, opsPerSec: perSec(ops), share: share(ops, keyTotal) })).sort((a, b) => b.ops - a.ops || a.pattern.localeCompare(b.pattern)).slice(0, opts.top),
  };
}
