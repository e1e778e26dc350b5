import type { Option } from 'commander';
import { optionsOf, RAILS_FLAGS, type FlagsOf } from './flagTable.js';
import { parseDuration, parsePositiveInt, parsePositiveNumber } from '../lib/duration.js';
import type { RailsOptions } from '../lib/rails.js';

/**
 * The safety rails as flags: their declaration (one place for every command
 * that writes) and their parsing into the typed RailsOptions the lib takes.
 */
export type RailsFlags = FlagsOf<typeof RAILS_FLAGS>;

export function railsOptions(): Option[] {
  return optionsOf(RAILS_FLAGS);
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

