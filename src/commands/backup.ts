import type { Command } from 'commander';
import { ExitCode, RedisOpsError, UsageError } from '../errors.js';
import { parsePositiveInt } from '../lib/duration.js';
import { keyJson, keyText } from '../lib/keyname.js';
import { railsFrom, railsOptions, type RailsFlags } from './railsFlags.js';
import { validateKeyType } from '../lib/scan/walk.js';
import { formatBytes, formatCount } from '../output/table.js';
import { addConnectionOptions, addOutputOptions, addRailsOptions, outputFor, runWithTarget, type RunContext, allDbsOption, report, type Outcome, walkOption } from './context.js';
import { parseDbMap } from './dbMap.js';
import { setExitCode } from './io.js';

export function registerBackup(program: Command): void {
  const backup = addConnectionOptions(
    program.command('backup')
      .description('write keys to a JSON Lines backup: exact, streaming, binary-safe (the format: docs/backup.md)')
      .option('-o, --output <file>', 'file to write, or - for stdout (default: redis-ops-<time>.jsonl[.gz])')
      .addOption(walkOption.match())
      .addOption(walkOption.types())
      .option('--gzip', 'compress (also when the file name ends in .gz)')
      .option('--force', 'replace an existing -o file')
      .addOption(allDbsOption('(in one file)'))
      .addOption(walkOption.count(500)),
  ).enablePositionalOptions().action(async (_f, cmd: Command) => {
    await runWithTarget(cmd, 'backup', (ctx) => runBackup(ctx, cmd.opts()));
  });

  addOutputOptions(
    backup.command('verify <file>').description('check a backup: header, every record, count and checksum; writes nothing'),
  ).action(async (file: string, _f, cmd: Command) => {
    const out = outputFor(cmd.opts(), cmd);
    const { verifyBackup } = await import('../lib/backup/reader.js');
    const r = await verifyBackup(file);
    setExitCode(cmd, await report({ ok: true, file, ...r }, (o) => o.write(`${file}: OK, ${formatCount(r.keys)} keys in ${formatCount(r.records)} records (${Object.entries(r.types).map(([t, n]) => `${t} ${formatCount(n)}`).join(', ')}) from ${r.header.source.address}, ${r.header.createdAt}\n`)).present(out));
  });

  addConnectionOptions(
    backup.command('diff <file>').description('compare a backup with the live server: missing, extra and different keys'),
  ).action(async (file: string, _f, cmd: Command) => {
    await runWithTarget(cmd, 'backup-diff', (ctx) => runDiff(ctx, file));
  });

  addRailsOptions(
    addConnectionOptions(
      program.command('restore <file>')
        .description('restore a backup file (or - for stdin) through the safety rails')
        .option('--skip-existing', 'leave keys that exist alone (default)')
        .option('--replace', 'replace existing keys (each swapped atomically)')
        .option('--fail-on-existing', 'stop, before writing anything, if any key exists')
        .option('--ttl <mode>', 'absolute (the original expiry instant; expired keys are skipped), relative (the TTL left at backup time), none', 'absolute')
        .addOption(walkOption.match())
        .addOption(walkOption.types())
        .option('--db-map <map>', 'move databases, e.g. 0:3,1:4')
        .option('--no-verify', 'skip the verification pass of a file (stdin is never verified first)'),
    ),
    railsOptions(),
  ).action(async (file: string, _f, cmd: Command) => {
    await runWithTarget(cmd, 'restore', (ctx) => runRestore(ctx, file, cmd.opts(), cmd.getOptionValueSource('db') === 'cli'));
  });
}

async function runBackup({ target, out, signal }: RunContext, f: { output?: string; match: string[]; type: string[]; gzip?: boolean; force?: boolean; count: string; allDbs?: boolean }): Promise<Outcome> {
  for (const t of f.type) validateKeyType(t);
  const defaultName = `redis-ops-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl${f.gzip ? '.gz' : ''}`;
  const path = f.output ?? defaultName;
  const gzip = Boolean(f.gzip) || path.endsWith('.gz');
  if (path === '-' && out.stdoutIsTTY && !gzip) out.warn('warning: writing a backup to the terminal');
  const { BackupSink, writeBackup } = await import('../lib/backup/writer.js');
  const { databasesToWalk } = await import('../lib/connect/dbs.js');
  const { outputPlace } = await import('../lib/outputPath.js');
  const { stdoutWasClosed } = await import('../output/output.js');
  const place = outputPlace(path, '-o', { replace: Boolean(f.force) });
  const dbs = await databasesToWalk(target, Boolean(f.allDbs), (m) => out.warn(m), { mentionOthers: true });
  const sink = new BackupSink(place, gzip);
  await sink.open();
  const progress = await out.progress('backing up…');
  const { ProgressMeter } = await import('../output/progressText.js');
  const { keysIn } = await import('../lib/connect/dbs.js');
  const meter = new ProgressMeter(progress.active && f.match.length === 0 && f.type.length === 0 ? await keysIn(target, dbs) : null);
  let keysDone = 0;
  const outputClosed = () => new RedisOpsError(`output closed after ${formatCount(keysDone)} keys: the backup is incomplete`);
  let summary;
  try {
    summary = await writeBackup(target, dbs, {
      match: f.match, types: f.type, count: parsePositiveInt(f.count, '--count'), signal,
      onProgress: (p) => {
        keysDone = p.keys;
        if (progress.active) progress.update(meter.text(p.keys, formatBytes(p.bytes)));
      },
    }, sink);
    keysDone = summary.keys;
    if (!summary.complete) {
      sink.abort();
      if (stdoutWasClosed()) throw outputClosed();
      out.warn(`interrupted: no backup was written${path === '-' ? ' (stdout holds an incomplete one: no trailer)' : ''}`);
      return ExitCode.partial;
    }
    await sink.finish();
  } catch (e) {
    sink.abort();
    if (stdoutWasClosed() || (path === '-' && (e as NodeJS.ErrnoException).code === 'EPIPE')) throw outputClosed();
    throw e;
  } finally {
    progress.stop();
  }
  for (const u of summary.unsupported) out.warn(`NOT BACKED UP: ${JSON.stringify({ ...u })} has type ${u.type}, which the backup format cannot hold (a module type)`);
  for (const c of summary.changedWhilePaged) out.warn(`warning: ${JSON.stringify(c)} changed while it was being read in pages: its copy may mix old and new elements`);
  // A backup on stdout is the product: its summary goes to stderr.
  return report({ file: path, ...summary }, (o) => o.info(`${path === '-' ? 'stdout' : path}: ${formatCount(summary.keys)} keys in ${formatCount(summary.records)} records, ${formatBytes(summary.bytes)}${gzip ? ' before compression' : ''}, ${(summary.durationMs / 1000).toFixed(1)} s; ${summary.vanished} vanished during the walk, ${summary.changedWhilePaged.length} changed while paged`),
  summary.unsupported.length ? ExitCode.failure : ExitCode.ok, { json: path === '-' ? 'stderr' : 'stdout' });
}

async function runRestore(
  { target, out, signal, newRails }: RunContext, file: string,
  f: RailsFlags & { skipExisting?: boolean; replace?: boolean; failOnExisting?: boolean; ttl: string; match: string[]; type: string[]; dbMap?: string; verify: boolean; db?: string },
  dbGiven: boolean,
): Promise<Outcome> {
  const modes = [f.skipExisting && 'skip', f.replace && 'replace', f.failOnExisting && 'fail'].filter(Boolean) as ('skip' | 'replace' | 'fail')[];
  if (modes.length > 1) throw new UsageError('choose one of --skip-existing, --replace, --fail-on-existing');
  // It checks every key before writing one: stdin cannot be read twice.
  if (file === '-' && f.failOnExisting) throw new UsageError('--fail-on-existing needs a file (it checks every key before writing any, and stdin cannot be read twice): save the backup to a file first');
  if (f.failOnExisting && !f.verify) throw new UsageError('--fail-on-existing needs the verification pass (it checks every key there): drop --no-verify');
  if (!['absolute', 'relative', 'none'].includes(f.ttl)) throw new UsageError(`--ttl: "${f.ttl}" is not absolute, relative or none`);
  for (const t of f.type) validateKeyType(t);
  const { globToRegExp } = await import('../lib/glob.js');
  const { newRestorer, restoreFrom } = await import('../lib/backup/restore.js');
  const { verifyBackup } = await import('../lib/backup/reader.js');
  const rails = await newRails(railsFrom('restore', f), 'keys');
  const restorer = newRestorer(target, {
    mode: modes[0] ?? 'skip',
    ttl: f.ttl as 'absolute' | 'relative' | 'none',
    match: f.match.map(globToRegExp),
    types: f.type,
    onlyDb: dbGiven ? target.db : undefined,
    dbMap: parseDbMap(f.dbMap),
    signal,
  }, rails, file);
  try {
    let planned = 'the keys in the backup';
    let total: number | null = null;
    if (file !== '-' && f.verify) {
      // Nothing is written unless the whole file checks out.
      const pending: import('../lib/backup/format.js').KeyRecord[] = [];
      let conflict: Buffer | null = null;
      const check = async () => {
        if (!conflict && pending.length) conflict = await restorer.anyExists(pending.splice(0));
      };
      // Only --fail-on-existing needs each record's key here; without a
      // callback the verify pass checks lines without parsing them (faster).
      const v = await verifyBackup(file, modes[0] !== 'fail' ? undefined : async ({ record }) => {
        pending.push(record);
        if (pending.length >= 500) await check();
      });
      await check();
      if (conflict) throw new UsageError(`key ${JSON.stringify(keyJson(conflict))} exists (--fail-on-existing): nothing was restored`);
      planned = `${formatCount(v.keys)} keys (${formatCount(v.records)} records) from ${file}, taken ${v.header.createdAt} from ${v.header.source.address}`;
      total = v.keys;
    }
    await rails.confirm({ description: `restore ${planned} (${modes[0] ?? 'skip'} existing keys, TTL ${f.ttl})`, sample: [], target: `${target.address} db ${target.db}` }, out);
    await rails.openLog();
    const progress = await out.progress(rails.dryRun ? 'checking what would be restored…' : 'restoring…');
    if (progress.active) {
      const { ProgressMeter } = await import('../output/progressText.js');
      const meter = new ProgressMeter(total);
      restorer.onProgress((n) => progress.update(meter.text(n)));
    }
    try {
      await restoreFrom(file, restorer, () => {}, file !== '-' && f.verify);
    } finally {
      progress.stop();
    }
    const s = restorer.summary;
    s.stoppedBy = s.stoppedBy ?? rails.stopReason;
    return report(s, (o) => o.write(`${s.dryRun ? 'dry run: would restore' : 'restored'} ${formatCount(s.created + s.replaced)} keys (${formatCount(s.created)} created, ${formatCount(s.replaced)} replaced), ${formatCount(s.skipped)} existing left alone, ${formatCount(s.expired)} expired, ${formatCount(s.filtered)} filtered out, in ${(s.durationMs / 1000).toFixed(1)} s${s.stoppedBy ? o.c.yellow(`; stopped early (${s.stoppedBy})`) : ''}\n`), s.stoppedBy ? ExitCode.partial : ExitCode.ok);
  } finally {
    await rails.close();
    await restorer.close();
  }
}

async function runDiff({ target, out }: RunContext, file: string): Promise<Outcome> {
  const { diffBackup } = await import('../lib/backup/diff.js');
  const progress = await out.progress('comparing…');
  let d;
  try {
    d = await diffBackup(target, file);
  } finally {
    progress.stop();
  }
  // Like diff(1): 0 when the same, 1 when they differ.
  return report(d, async (out) => {
    const show = (k: { db: number; key?: string; key64?: string }) => `db${k.db} ${k.key !== undefined ? keyText(Buffer.from(k.key, 'utf8')) : `(base64) ${k.key64}`}`;
    const lines = [
      `${file} vs ${target.address}: ${formatCount(d.same)} same, ${formatCount(d.missing.length)} missing on the server, ${formatCount(d.extra.length)} extra on the server, ${formatCount(d.different.length)} different`,
      ...d.missing.slice(0, 20).map((k) => `  missing   ${show(k)}`),
      ...d.extra.slice(0, 20).map((k) => `  extra     ${show(k)}`),
      ...d.different.slice(0, 20).map((k) => `  different ${show(k)} (${k.reason})`),
    ];
    await out.write(`${lines.join('\n')}\n`);
  }, d.missing.length || d.extra.length || d.different.length ? ExitCode.failure : ExitCode.ok);
}

