import { Option } from 'commander';

/**
 * Shared options as data: each one's flag, value placeholder and help, once.
 * The Commander options and the typed flag object a command receives are
 * both made from the table (docs/flags.md is generated from the options).
 */
export interface FlagSpec {
  /** The property Commander sets (camelCase of the long flag; `color` for --no-color). */
  readonly name: string;
  readonly flag: string;
  readonly arg?: string;
  readonly help: string;
}

/** The flags a table gives a command: text for options with a value, true for switches. */
export type FlagsOf<T extends readonly FlagSpec[]> = { [F in T[number] as F['name']]?: F extends { arg: string } ? string : boolean };

export function optionsOf(table: readonly FlagSpec[]): Option[] {
  return table.map((f) => new Option(f.arg ? `${f.flag} ${f.arg}` : f.flag, f.help));
}

export const OUTPUT_FLAGS = [
  { name: 'json', flag: '--json', help: 'machine-readable output on stdout (the schema of each command: docs/)' },
  { name: 'quiet', flag: '-q, --quiet', help: 'no progress or informational messages' },
  { name: 'color', flag: '--no-color', help: 'no colour (also NO_COLOR, TERM=dumb, or when stdout is not a terminal)' },
  { name: 'debug', flag: '--debug', help: 'show stack traces for unexpected errors' },
] as const satisfies readonly FlagSpec[];

export const RAILS_FLAGS = [
  { name: 'dryRun', flag: '--dry-run', help: 'show what would change; change nothing' },
  { name: 'yes', flag: '-y, --yes', help: 'do not ask for confirmation (required when not on a terminal)' },
  { name: 'limit', flag: '--limit', arg: '<n>', help: 'change at most N items, then stop (exit 3 if more remained)' },
  { name: 'rate', flag: '--rate', arg: '<n>', help: 'change at most N items per second' },
  { name: 'maxDuration', flag: '--max-duration', arg: '<dur>', help: 'stop after this long (exit 3 if work remained), e.g. 5m' },
  { name: 'log', flag: '--log', arg: '<file>', help: 'append one NDJSON line per change to FILE' },
] as const satisfies readonly FlagSpec[];
