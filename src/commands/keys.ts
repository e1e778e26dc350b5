import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../lib/duration.js';
import { keyFromText, keyJson, keyLines, keyText, patternFromText, withKey } from '../lib/keyname.js';
import { matchesEveryKey } from '../lib/rails.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import { validateKeyType } from '../lib/scan/walk.js';
import { formatCount } from '../output/table.js';
import { addConnectionOptions, addRailsOptions, dryRunShow, dryRunShowOption, runWithTarget, type RunContext, allDbsOption, report, type Outcome, walkOption } from './context.js';

interface ScanFlags {
  allDbs?: boolean;
  type?: string;
  count?: string;
  limit?: string;
  ttl?: boolean; // false with --no-ttl
  ttlBelow?: string;
  idleOver?: string;
  null?: boolean;
  json?: boolean;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('walk, measure, inspect and delete keys (SCAN, never KEYS)');

  addConnectionOptions(
    keys.command('scan [pattern]')
      .description('list keys matching a glob pattern, on every master of a cluster')
      .addOption(walkOption.type())
      .addOption(walkOption.count(1000))
      .option('--limit <n>', 'stop after N matching keys')
      .option('--no-ttl', 'only keys without an expiry')
      .option('--ttl-below <dur>', 'only keys expiring within DUR (e.g. 1h)')
      .option('--idle-over <dur>', 'only keys not accessed for longer than DUR (OBJECT IDLETIME)')
      .option('-0, --null', 'raw key bytes, each followed by NUL (for xargs -0)')
      .addOption(allDbsOption('(records carry their db)')),
  ).action(async (pattern: string | undefined, _f, cmd: Command) => {
    await runWithTarget(cmd, 'keys-scan', (ctx) => keysScan(ctx, pattern, cmd.opts<ScanFlags>()));
  });

  addConnectionOptions(
    keys.command('stats [pattern]')
      .description('one pass over the keyspace: types, memory, TTLs, key patterns, biggest keys')
      .addOption(walkOption.type())
      .addOption(walkOption.separator())
      .addOption(walkOption.depth())
      .addOption(walkOption.top())
      .addOption(walkOption.groups(30))
      .option('--sample <n>', 'walk only N keys and extrapolate')
      .option('--lengths', 'measure element counts even where that refreshes idle time (Redis < 7.2)')
      .addOption(allDbsOption('(a per-DB summary, then the details)'))
      .addOption(walkOption.count(250))
      .option('--compare <file>', 'an earlier run\'s --json: show per pattern the change in keys, memory and share without TTL, most grown first')
      .option('--fail-on-growth <rule>', 'with --compare: exit 1 when a pattern\'s memory grew more than this: PATTERN=N% (repeatable), or N% for every pattern', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--markdown <file>', 'also write a Markdown summary (for a ticket or a chat) to FILE')
      .option('--html <file>', 'also write a self-contained HTML report (treemap of memory by pattern, charts, sortable tables) to FILE'),
  ).action(async (pattern: string | undefined, _f, cmd: Command) => {
    await runWithTarget(cmd, 'keys-stats', (ctx) => keysStats(ctx, pattern, cmd.opts()));
  });

  addConnectionOptions(
    keys.command('inspect <key>')
      .description('type, encoding, TTL, idle time, memory, length and a preview of one key')
      .option('--base64', 'KEY is given base64-encoded (binary key names; without it, the escaped form keys scan prints: \\xff, \\n, \\\\)')
      .option('--key64', 'the same as --base64 (the name of the JSON field)')
      .option('--items <n>', 'elements to preview', '10')
      .option('--max-bytes <n>', 'bytes shown of a string or of each element', '256'),
  ).action(async (key: string, _f, cmd: Command) => {
    await runWithTarget(cmd, 'keys-inspect', (ctx) => keysInspect(ctx, key, cmd.opts()));
  });

  const del = addConnectionOptions(
    keys.command('delete <pattern>')
      .description('UNLINK every key matching a pattern, through the safety rails')
      .addOption(walkOption.type())
      .option('--no-ttl', 'only keys without an expiry')
      .option('--idle-over <dur>', 'only keys idle for longer than DUR')
      .addOption(walkOption.count(1000)),
  );
  addRailsOptions(del, [...railsOptions(), dryRunShowOption()]).action(async (pattern: string, _f, cmd: Command) => {
    await runWithTarget(cmd, 'keys-delete', (ctx) => keysDelete(ctx, pattern, cmd.opts(), dryRunShow(cmd.opts())));
  });
}

function scanOptionsFrom(pattern: string | undefined, f: ScanFlags, signal: AbortSignal) {
  return {
    // The printed form (\xff, \n, \\) names the same bytes: a key copied from the output matches.
    match: pattern === undefined ? undefined : patternFromText(pattern),
    type: validateKeyType(f.type),
    count: parsePositiveInt(f.count ?? '1000', '--count'),
    limit: f.limit !== undefined ? parsePositiveInt(f.limit, '--limit') : undefined,
    noTtl: f.ttl === false,
    ttlBelowMs: f.ttlBelow !== undefined ? parseDuration(f.ttlBelow, '--ttl-below') : undefined,
    idleOverSec: f.idleOver !== undefined ? parseDuration(f.idleOver, '--idle-over') / 1000 : undefined,
    signal,
  };
}

async function keysScan({ target, out, signal }: RunContext, pattern: string | undefined, f: ScanFlags): Promise<number> {
  if (f.null && f.json) throw new UsageError('--null and --json cannot be combined');
  const opts = { ...scanOptionsFrom(pattern, f, signal), details: Boolean(f.json) };
  const { scanKeys } = await import('../lib/keys/scan.js');
  const { countKeys } = await import('../lib/scan/walk.js');
  const { databasesToWalk, forEachDb } = await import('../lib/connect/dbs.js');
  const dbs = await databasesToWalk(target, Boolean(f.allDbs), (m) => out.warn(m));
  const progress = await out.progress('scanning…');
  let total = 0;
  let seen = 0;
  let found = 0;
  try {
    await forEachDb(target, dbs, async (t) => {
      if (signal.aborted || (opts.limit !== undefined && found >= opts.limit)) return;
      if (progress.active) total += (await countKeys(t)).reduce((a, n) => a + n.keys, 0);
      const limit = opts.limit !== undefined ? opts.limit - found : undefined;
      for await (const page of scanKeys(t, { ...opts, limit, onFallback: (_n, why) => out.warn(why) })) {
        seen += page.seen;
        found += page.keys.length;
        if (progress.active) progress.update(`scanned ${formatCount(seen)} of ~${formatCount(total)} keys, ${formatCount(found)} matching`);
        if (page.keys.length === 0) continue;
        if (f.json) {
          await out.ndjson(page.keys.map((k) => withKey(k.key, { type: k.type, ttlMs: k.ttlMs ?? null, node: page.node, db: page.db })));
        } else {
          await out.write(keyLines(page.keys.map((k) => k.key), Boolean(f.null)));
        }
      }
    });
  } finally {
    progress.stop();
  }
  if (signal.aborted) {
    out.info(`interrupted after ${formatCount(found)} keys`);
    return ExitCode.partial;
  }
  return ExitCode.ok;
}

async function keysStats(
  { target, out, signal }: RunContext, pattern: string | undefined,
  f: { type?: string; separator: string; depth: string; top: string; groups: string; sample?: string; lengths?: boolean; count: string; allDbs?: boolean; compare?: string; failOnGrowth: string[]; markdown?: string; html?: string },
): Promise<Outcome> {
  const { collectKeyStats } = await import('../lib/keys/stats.js');
  const { compareStats, parseGrowthRule, readPrevious } = await import('../lib/keys/compare.js');
  // The inputs are checked before the walk: a typo must not cost an hour's walk.
  if (f.failOnGrowth.length && !f.compare) throw new UsageError('--fail-on-growth needs --compare PREVIOUS.json');
  const rules = f.failOnGrowth.map(parseGrowthRule);
  const previous = f.compare !== undefined ? readPrevious(f.compare) : null;
  for (const [file, flag] of [[f.markdown, '--markdown'], [f.html, '--html']] as const) {
    if (file === undefined) continue;
    const { outputPlace } = await import('../lib/outputPath.js');
    outputPlace(file, flag, { replace: true });
  }
  const { ProgressMeter } = await import('../output/progressText.js');
  let meter: InstanceType<typeof ProgressMeter> | null = null;
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  const dbs = await databasesToWalk(target, Boolean(f.allDbs), (m) => out.warn(m), { mentionOthers: true });
  const depth = parsePositiveInt(f.depth, '--depth');
  const progress = await out.progress('walking keys…');
  let stats;
  try {
    stats = await collectKeyStats(target, {
      dbs,
      match: pattern,
      type: validateKeyType(f.type),
      separator: f.separator,
      depth,
      top: parsePositiveInt(f.top, '--top', { allowZero: true }),
      groups: parsePositiveInt(f.groups, '--groups'),
      sample: f.sample !== undefined ? parsePositiveInt(f.sample, '--sample') : undefined,
      lengths: f.lengths ? true : 'auto',
      count: parsePositiveInt(f.count, '--count'),
      signal,
      onFallback: (_n, why) => out.warn(why),
      onNoBytes: (node) => out.warn(`warning: ${node}: MEMORY USAGE is not allowed for this user; the report goes on without bytes ("bytesMeasured": false)`),
      onProgress: (p) => {
        if (!progress.active) return;
        meter ??= new ProgressMeter(p.total);
        progress.update(meter.text(p.scanned, 'walking'));
      },
    });
  } finally {
    progress.stop();
  }
  const at = new Date().toISOString();
  const comparison = previous && f.compare ? compareStats(f.compare, previous, stats, rules) : null;
  if (f.markdown !== undefined) {
    const { renderMarkdown } = await import('../output/render/compare.js');
    const { writeFileAtomic } = await import('../lib/atomicFile.js');
    writeFileAtomic(f.markdown, renderMarkdown({ ...stats, at, target: `${target.address}/${target.db}` }, comparison), 0o644, '--markdown');
  }
  if (f.html !== undefined) {
    const { writeFileAtomic } = await import('../lib/atomicFile.js');
    const { keyStatsHtml } = await import('../output/html/reports.js');
    writeFileAtomic(f.html, keyStatsHtml(stats, { target: `${target.address}/${target.db}`, at, comparison }), 0o644, '--html');
  }
  const exit = comparison?.failed.length ? ExitCode.failure : stats.complete || stats.extrapolated ? ExitCode.ok : ExitCode.partial;
  return report({ at, ...stats, ...(comparison ? { comparison } : {}) }, async (o) => {
    const { loadTables } = await import('../output/table.js');
    const { renderKeyStats } = await import('../output/render/keys.js');
    await loadTables();
    await o.write(renderKeyStats(o, stats));
    if (comparison) {
      const { renderComparison } = await import('../output/render/compare.js');
      await o.write(`\n${renderComparison(o, comparison, parsePositiveInt(f.groups, '--groups'))}`);
    }
  }, exit);
}

async function keysInspect(
  { target, out }: RunContext, keyArg: string, f: { base64?: boolean; key64?: boolean; items: string; maxBytes: string },
): Promise<Outcome> {
  const key = f.base64 || f.key64 ? decodeBase64Key(keyArg) : keyFromText(keyArg);
  const { inspectKey } = await import('../lib/keys/inspect.js');
  const found = await inspectKey(target, key, {
    items: parsePositiveInt(f.items, '--items'),
    maxBytes: parsePositiveInt(f.maxBytes, '--max-bytes'),
  });
  if (!found) {
    out.error(`no such key: ${keyText(key)} on ${target.address} (db ${target.db})`);
    return report({ ...keyJson(key), exists: false }, () => {}, ExitCode.failure);
  }
  return report({ ...found, exists: true }, async (o) => {
    const { renderInspect } = await import('../output/render/keys.js');
    await o.write(renderInspect(o, found));
  });
}

function decodeBase64Key(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new UsageError(`--base64: "${text}" is not valid base64`);
  return Buffer.from(text, 'base64');
}

async function keysDelete({ target, out, signal, newRails }: RunContext, pattern: string, f: ScanFlags & RailsFlags, show: number): Promise<Outcome> {
  const rails = railsFrom('keys delete', f);
  const scan = { ...scanOptionsFrom(pattern, f, signal), limit: undefined, match: patternFromText(pattern), pattern };
  const { deleteMatchingKeys } = await import('../lib/keys/delete.js');
  const { scanKeys } = await import('../lib/keys/scan.js');
  const r = await newRails(rails, 'keys');

  if (!rails.dryRun && !rails.yes && out.interactive) {
    // The plan: a read-only walk to count and sample what would go.
    let count = 0;
    const sample: string[] = [];
    for await (const page of scanKeys(target, scan)) {
      count += page.keys.length;
      for (const k of page.keys) if (sample.length < 5) sample.push(keyText(k.key));
    }
    if (count === 0) {
      out.info(`no keys match ${pattern}`);
      return ExitCode.ok;
    }
    const limited = rails.limit !== undefined && rails.limit < count ? ` (at most ${formatCount(rails.limit)}: --limit)` : '';
    const { keysIn } = await import('../lib/connect/dbs.js');
    const everyKey = matchesEveryKey(pattern) || count >= ((await keysIn(target, [target.db])) ?? Infinity);
    await r.confirm({
      description: `UNLINK ${formatCount(count)} key(s) matching ${pattern}${limited}`, sample, target: `${target.address} db ${target.db}`,
      everyKeyOf: everyKey ? `${target.address}/${target.db}` : undefined,
    }, out);
  } else {
    await r.confirm({ description: `UNLINK the keys matching ${pattern}`, sample: [], target: `${target.address} db ${target.db}` }, out);
  }

  const progress = await out.progress(rails.dryRun ? 'planning (dry run): nothing is deleted…' : 'deleting…');
  const { ProgressMeter } = await import('../output/progressText.js');
  const { keysIn } = await import('../lib/connect/dbs.js');
  const meter = new ProgressMeter(progress.active ? await keysIn(target, [target.db]) : null);
  // Why each key is selected: the pattern and every selector given.
  const reason = [`matches ${pattern}`, f.type && `type ${f.type}`, f.ttl === false && 'no TTL', f.idleOver && `idle over ${f.idleOver}`].filter(Boolean).join(', ');
  const { DryRunList } = await import('../output/preview.js');
  const preview = new DryRunList(out, show);
  let result;
  try {
    result = await deleteMatchingKeys(target, scan, r, {
      onKeys: async (node, keys) => {
        if (!rails.dryRun) return;
        for (const k of keys) await preview.add(`${keyText(k.key)}  (${reason})`, { ...keyJson(k.key), node, db: target.db, action: 'unlink', reason });
      },
      onProgress: (n, scanned) => { if (progress.active) progress.update(meter.text(scanned, `${rails.dryRun ? 'would unlink' : 'unlinked'} ${formatCount(n)}`)); },
    });
  } finally {
    progress.stop();
    await r.close();
  }
  const { renderDeleteResult } = await import('../output/render/keys.js');
  await preview.finish();
  const exit = result.stoppedBy ? ExitCode.partial : ExitCode.ok;
  // A dry run's listing was the product (NDJSON with --json); its summary is information.
  if (rails.dryRun) {
    out.info(renderDeleteResult(out, result).trimEnd());
    return exit;
  }
  return report(result, (o) => o.write(renderDeleteResult(o, result)), exit);
}
