import { Option } from 'commander';
import { parseDuration, parsePositiveInt, parsePositiveNumber } from '../lib/duration.js';
import type { RailsOptions } from '../lib/rails.js';

/**
 * The safety rails as flags: their declaration (one place for every command
 * that writes) and their parsing into the typed RailsOptions the lib takes.
 */
export interface RailsFlags {
  dryRun?: boolean;
  yes?: boolean;
  limit?: string;
  rate?: string;
  maxDuration?: string;
  log?: string;
}

export function railsOptions(): Option[] {
  return [
    new Option('--dry-run', 'show what would change; change nothing'),
    new Option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)'),
    new Option('--limit <n>', 'change at most N items, then stop (exit 3 if more remained)'),
    new Option('--rate <n>', 'change at most N items per second'),
    new Option('--max-duration <dur>', 'stop after this long (exit 3 if work remained), e.g. 5m'),
    new Option('--log <file>', 'append one NDJSON line per change to FILE'),
  ];
}

export function railsFrom(command: string, flags: RailsFlags): RailsOptions {
  return {
    command,
    dryRun: Boolean(flags.dryRun),
    yes: Boolean(flags.yes),
    limit: flags.limit !== undefined ? parsePositiveInt(flags.limit, '--limit') : undefined,
    rate: flags.rate !== undefined ? parsePositiveNumber(flags.rate, '--rate') : undefined,
    maxDurationMs: flags.maxDuration !== undefined ? parseDuration(flags.maxDuration, '--max-duration') : undefined,
    logPath: flags.log,
  };
}

