import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { parsePositiveInt } from '../lib/duration.js';
import { formatCount } from '../lib/numbers.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import { parseDbMap } from './dbMap.js';
import { addOutputOptions, addRailsOptions, allDbsOption, report, runWithTarget, walkOption, type Outcome, type RunContext } from './context.js';
import { addSidesOptions, sideFlags, type SidesFlags } from './sides.js';

interface CopyFlags extends RailsFlags, SidesFlags {
  type: string[];
  count: string;
  checkpoint?: string;
  renamePrefix?: string;
  allDbs?: boolean;
  dbMap?: string;
  replace?: boolean;
  failOnExisting?: boolean;
  ttl: string;
}

export function registerCopy(program: Command): void {
  addRailsOptions(addOutputOptions(
    addSidesOptions(program.command('copy [patterns...]')
      .description('copy keys between live deployments (any kinds: server, Sentinel, cluster), streaming and resumable; existing keys are left alone unless --replace'),
    { from: 'the source', to: 'the destination' })
      .addOption(walkOption.types())
      .addOption(walkOption.count(1000))
      .option('--checkpoint <file>', 'save each source node\'s SCAN cursor here after every page the destination has taken; the same command with the same file resumes')
      .option('--rename-prefix <old:new>', 'write keys beginning with OLD under NEW instead (e.g. prod:staging:); only those keys are copied unless patterns say otherwise')
      .addOption(allDbsOption('of --from (each to the database of the same number, or as --db-map says)'))
      .option('--db-map <from:to,...>', 'source database → destination database (e.g. 0:3,1:4)')
      .option('--replace', 'overwrite keys that exist on the destination')
      .option('--fail-on-existing', 'stop at the first key that exists on the destination')
      .option('--ttl <mode>', 'expiries: absolute (the same instant), relative (the same time left), none', 'absolute'),
  ), railsOptions()).action(async (patterns: string[], _f, cmd: Command) => {
    const f = cmd.opts<CopyFlags>();
    await runWithTarget(cmd, 'copy', (ctx) => copy(ctx, patterns, f), { connection: sideFlags(f.from, '--from', f) });
  });
}

async function copy(ctx: RunContext, patterns: string[], f: CopyFlags): Promise<Outcome> {
  if (f.replace && f.failOnExisting) throw new UsageError('choose one of --replace and --fail-on-existing');
  if (!['absolute', 'relative', 'none'].includes(f.ttl)) throw new UsageError(`--ttl: "${f.ttl}" is not absolute, relative or none`);
  const count = parsePositiveInt(f.count, '--count');
  const dbMap = parseDbMap(f.dbMap);
  const rename = f.renamePrefix !== undefined ? parseRename(f.renamePrefix) : undefined;
  // Without patterns, a rename copies the keys it renames.
  const match = patterns.length || !rename ? patterns : [`${escapeGlob(rename.from.toString('utf8'))}*`];
  const rails = await ctx.newRails(railsFrom('copy', f), 'keys');
  const to = await ctx.openOther(sideFlags(f.to, '--to', f));
  const from = ctx.target;
  if (from.address === to.address && from.db === to.db) {
    if (!rename) throw new UsageError(`--from and --to are the same database (${from.address}/${from.db}): a copy onto itself would change nothing`);
    // Into the same database, a new name that the walk would find again could be copied again, and again.
    const [a, b] = [rename.from, rename.to];
    if (b.subarray(0, a.length).equals(a) || a.subarray(0, b.length).equals(b)) throw new UsageError(`--rename-prefix ${f.renamePrefix}: within one database the prefixes must not overlap (one begins with the other), or copies would be copied again`);
  }
  const { out } = ctx;
  const mode = f.replace ? 'replace' : f.failOnExisting ? 'fail' : 'skip';
  await rails.confirm({
    description: `copy ${match.length ? `the keys matching ${match.join(' ')}` : 'every key'}${rename ? ` (renamed ${f.renamePrefix!.replace(':', ' → ')}…)` : ''} of ${from.address}/${from.db} to ${to.address}/${to.db} (existing keys: ${mode === 'skip' ? 'left alone' : mode === 'replace' ? 'replaced' : 'stop the copy'})`,
    sample: [], target: `${to.address}/${to.db}`,
  }, out);
  const { copyKeys } = await import('../lib/copy/copy.js');
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  const dbs = await databasesToWalk(from, Boolean(f.allDbs), (m) => out.warn(m));
  const progress = await out.progress('copying…');
  let s;
  try {
    s = await copyKeys(from, to, rails, {
      match, types: f.type, count, dbs, dbMap, ...(rename ? { rename } : {}), restore: { mode, ttl: f.ttl as 'absolute' | 'relative' | 'none' },
      checkpoint: f.checkpoint, signal: ctx.signal,
      onProgress: (n) => { if (progress.active) progress.update(`copied ${formatCount(n)} keys`); },
    });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (f.checkpoint && !rails.dryRun) err.message += `; the same command resumes from ${f.checkpoint}`;
    throw err;
  } finally {
    progress.stop();
    await rails.close();
  }
  const stopped = s.stoppedBy !== null || s.nodesDone < s.nodes;
  return report(s, (o) => o.info(`${s.dryRun ? 'dry run: would copy' : 'copied'} ${formatCount(s.created + s.replaced)} keys (${formatCount(s.created)} created, ${formatCount(s.replaced)} replaced), ${formatCount(s.skipped)} existing left alone, ${formatCount(s.expired)} expired; ${s.nodesDone} of ${s.nodes} source node(s) walked to the end${s.resumed ? ' (resumed)' : ''}${stopped ? `; stopped (${s.stoppedBy ?? 'interrupted'})${f.checkpoint ? `: the same command resumes from ${f.checkpoint}` : ''}` : ''}`),
  stopped ? ExitCode.partial : ExitCode.ok);
}

/** OLD:NEW, split at the last colon that leaves both sides non-empty: prefixes often end in ':' themselves (prod::staging: is prod: → staging:). */
function parseRename(text: string): { from: Buffer; to: Buffer } {
  for (let i = text.length - 1; i > 0; i--) {
    if (text[i] !== ':') continue;
    const from = text.slice(0, i);
    const to = text.slice(i + 1);
    if (from && to && (from.endsWith(':') === to.endsWith(':'))) return { from: Buffer.from(from), to: Buffer.from(to) };
  }
  throw new UsageError(`--rename-prefix: "${text}" is not OLD:NEW (e.g. prod:staging, or prod::staging: for prefixes ending in a colon)`);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
