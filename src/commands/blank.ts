import { lstatSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/**
 * Options whose value names data or a file. Empty or blank, each is an unset
 * variable in a cron line, never "everything" or "the default": an empty
 * pattern would match every key.
 */
const NAMING_OPTIONS = [
  'match', 'type', 'key', 'tlsKey', 'output', 'backup', 'log', 'promFile', 'file', 'slowlogState',
  'config', 'passwordFile', 'cacert', 'cert', 'profile', 'ageField', 'singleFlight',
  // clients kill: an empty name would select every connection that has none.
  'name', 'addr', 'clientUser',
  // copy and diff: each side, the checkpoint, the rename; keys stats: the earlier report, the Markdown file.
  'from', 'to', 'checkpoint', 'renamePrefix', 'compare', 'markdown', 'html',
] as const;

const blank = (v: unknown) => typeof v === 'string' && v.trim() === '';

/** Refuses (exit 2) any empty or blank positional argument, or naming option, before the command runs. */
export function rejectBlankArguments(cmd: Command): void {
  if (cmd.name() === '__complete') return; // the word being completed is often empty
  const declared = cmd.registeredArguments;
  cmd.processedArgs.forEach((value: unknown, i: number) => {
    const name = declared[Math.min(i, declared.length - 1)]?.name() ?? 'argument';
    const values = Array.isArray(value) ? value : [value];
    if (values.some(blank)) throw new UsageError(`the ${name} argument is empty (an unset variable?): nothing was done`);
  });
  const opts = cmd.opts() as Record<string, unknown>;
  for (const name of NAMING_OPTIONS) {
    const v = opts[name];
    if (blank(v) || (Array.isArray(v) && v.some(blank))) {
      const flag = cmd.options.find((o) => o.attributeName() === name)?.long ?? `--${name}`;
      throw new UsageError(`${flag} is empty (an unset variable?): nothing was done`);
    }
  }
}

/**
 * The change log (--log) is an audit trail that names keys: refuse a symbolic
 * link (it could point anywhere) and say when others can read the file.
 */
export function checkLogPath(cmd: Command, warn: (message: string) => void): void {
  const path = (cmd.opts() as { log?: unknown }).log;
  if (typeof path !== 'string') return;
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // created owner-only when the first change is logged
  }
  if (st.isSymbolicLink()) throw new UsageError(`--log: ${path} is a symbolic link: name the file itself`);
  if (st.isFile() && (st.mode & 0o077) !== 0) warn(`warning: --log: ${path} is readable by other users, and the log names every key changed: chmod 600 ${path}`);
}
