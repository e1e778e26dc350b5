import { Option, type Command } from 'commander';
import type { Readable } from 'node:stream';
import { ExitCode, InputError, UsageError } from '../errors.js';
import { parsePositiveInt } from '../lib/duration.js';
import { validateKeyType } from '../lib/scan/walk.js';
import { formatBytes, formatCount } from '../lib/numbers.js';
import type { RdbFilter } from '../lib/rdb/analyze.js';
import { addOutputOptions, outputFor, report, walkOption } from './context.js';
import { ioFor, setExitCode } from './io.js';

interface FilterFlags { type?: string; db?: string; ttl?: boolean }

const filterOptions = (c: Command) => c
  .addOption(walkOption.type())
  .option('--db <n>', 'only this database of the file')
  .option('--no-ttl', 'only keys without an expiry');

function filterOf(f: FilterFlags, match: string | undefined): RdbFilter {
  return {
    match,
    type: validateKeyType(f.type),
    db: f.db !== undefined ? parsePositiveInt(f.db, '--db', { allowZero: true }) : undefined,
    noTtl: f.ttl === false ? true : undefined,
  };
}

/** stdin for "-": refused when it is a terminal (nothing is piped in, and the run would wait for ever). */
function stdinFor(cmd: Command, file: string): Readable {
  const stdin = ioFor(cmd).stdin as Readable & { isTTY?: boolean };
  if (file === '-' && stdin.isTTY) throw new UsageError('stdin is a terminal: pipe an RDB file into it (redis-cli --rdb - | redis-ops rdb stats -), or give a file');
  return stdin;
}

/** The reader's failures are the input's: exit 2 with the file and offset; a file that cannot be opened says why. */
async function reading<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const { RdbError } = await import('../lib/rdb/parser.js');
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RdbError) throw new InputError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' || code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
      throw new InputError(`${file}: cannot read it as an RDB file (${code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'corrupt gzip' : code})`);
    }
    throw e;
  }
}

export function registerRdb(program: Command): void {
  const rdb = program.command('rdb').description('analyse an RDB file offline (a replica\'s dump, a nightly snapshot, redis-cli --rdb -): no server involved');

  addOutputOptions(filterOptions(rdb.command('stats <file> [pattern]')
    .description('the keys stats report from an RDB file (or - for stdin): types, estimated memory, TTLs, key patterns, biggest keys')
    .addOption(walkOption.separator())
    .addOption(walkOption.depth())
    .addOption(walkOption.groups(30))
    .addOption(walkOption.top())))
    .action(async (file: string, pattern: string | undefined, _f, cmd: Command) => {
      const f = cmd.opts<FilterFlags & { separator: string; depth: string; groups: string; top: string }>();
      const out = outputFor(cmd.opts(), cmd);
      const path = file;
      const opts = { ...filterOf(f, pattern), separator: f.separator, depth: parsePositiveInt(f.depth, '--depth'), groups: parsePositiveInt(f.groups, '--groups'), top: parsePositiveInt(f.top, '--top', { allowZero: true }) };
      const { rdbStats } = await import('../lib/rdb/analyze.js');
      const progress = await out.progress(`reading ${path}…`);
      let r;
      try {
        r = await reading(path, () => rdbStats(path, stdinFor(cmd, path), opts));
      } finally {
        progress.stop();
      }
      const { stats, rdb: summary } = r;
      const source = { file: path, version: summary.version, magic: summary.magic, checksum: summary.checksum, redisVersion: summary.aux['redis-ver'] ?? summary.aux['valkey-ver'] ?? null, modules: summary.modules, functions: summary.functions };
      setExitCode(cmd, await report({ at: new Date().toISOString(), source, ...stats }, async (o) => {
        const { loadTables } = await import('../output/table.js');
        const { renderKeyStats } = await import('../output/render/keys.js');
        await loadTables();
        await o.write(renderKeyStats(o, stats));
        o.info(`${path}: RDB ${summary.magic === 'VALKEY' ? 'Valkey ' : ''}${summary.version}${source.redisVersion ? ` (written by ${source.redisVersion})` : ''}, checksum ${summary.checksum}; bytes are estimated MEMORY USAGE (docs/rdb.md)`);
        for (const [m, n] of Object.entries(summary.modules)) o.warn(`${formatCount(n)} key(s) of module type ${m}: counted, not sized`);
      }).present(out));
    });

  addOutputOptions(filterOptions(rdb.command('scan <file> [pattern]')
    .description('the keys of an RDB file (or - for stdin) as NDJSON: key, type, encoding, TTL, db, estimated bytes, length')))
    .action(async (file: string, pattern: string | undefined, _f, cmd: Command) => {
      const out = outputFor({ ...cmd.opts(), json: true }, cmd);
      const path = file;
      const filter = filterOf(cmd.opts<FilterFlags>(), pattern);
      const { scanRdb } = await import('../lib/rdb/analyze.js');
      const lines: string[] = [];
      const flush = async () => {
        if (lines.length) await out.write(`${lines.join('\n')}\n`);
        lines.length = 0;
      };
      const r = await reading(path, () => scanRdb(path, stdinFor(cmd, path), filter, async (line) => {
        lines.push(JSON.stringify(line));
        if (lines.length >= 1000) await flush();
      }));
      await flush();
      out.info(`${path}: ${formatCount(r.matched)} of ${formatCount(r.keys)} keys; RDB ${r.version}, checksum ${r.checksum}`);
      setExitCode(cmd, ExitCode.ok);
    });

  addOutputOptions(filterOptions(rdb.command('export <file> [pattern]')
    .description('convert an RDB file (or - for stdin) into a redis-ops backup, for restore into any server, database or cluster')
    .addOption(new Option('-o, --output <file>', 'the backup to write (.gz: compressed; - for stdout)').makeOptionMandatory())
    .option('--gzip', 'compress the output')
    .option('--force', 'replace an existing -o file')))
    .action(async (file: string, pattern: string | undefined, _f, cmd: Command) => {
      const f = cmd.opts<FilterFlags & { output: string; gzip?: boolean; force?: boolean }>();
      const out = outputFor(cmd.opts(), cmd);
      const path = file;
      const filter = filterOf(f, pattern);
      const input = stdinFor(cmd, path);
      const { exportRdb, exportHeader } = await import('../lib/rdb/analyze.js');
      const { BackupSink } = await import('../lib/backup/sink.js');
      const { outputPlace } = await import('../lib/outputPath.js');
      const place = outputPlace(f.output, '-o', { replace: Boolean(f.force) });
      const sink = new BackupSink(place, Boolean(f.gzip) || f.output.endsWith('.gz'));
      await sink.open();
      let r;
      try {
        await sink.header(exportHeader(path, filter.db !== undefined ? [filter.db] : [], filter));
        r = await reading(path, () => exportRdb(path, input, filter, sink));
        await sink.finish();
      } catch (e) {
        sink.abort();
        throw e;
      }
      const summary = { file: f.output, keys: r.keys, records: r.records, bytes: sink.byteCount, skipped: r.skipped, rdb: { version: r.rdb.version, magic: r.rdb.magic, checksum: r.rdb.checksum, keys: r.rdb.keys } };
      // What was left out is said on stderr whatever the format: a cron job's log keeps it.
      if (r.skipped.modules) out.warn(`NOT EXPORTED: ${formatCount(r.skipped.modules)} key(s) of a module type (${Object.keys(r.rdb.modules).join(', ')}): the backup format cannot hold them`);
      if (r.skipped.fieldExpiriesDropped) out.warn(`${formatCount(r.skipped.fieldExpiriesDropped)} hash field expiries dropped: the backup format has no field TTLs`);
      setExitCode(cmd, await report(summary, (o) => {
        o.info(`${f.output}: ${formatCount(r.keys)} keys in ${formatCount(r.records)} records, ${formatBytes(sink.byteCount)}, from RDB ${r.rdb.version} (checksum ${r.rdb.checksum})`);
        if (r.skipped.expired) o.info(`${formatCount(r.skipped.expired)} key(s) already expired: left out`);
      }, r.skipped.modules ? ExitCode.failure : ExitCode.ok, { json: f.output === '-' ? 'stderr' : 'stdout' }).present(out));
    });
}
