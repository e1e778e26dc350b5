import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { ConnectionFlags } from '../lib/connect/fields.js';

/**
 * The two sides of a command between deployments (copy, diff): each a URL
 * (redis://, rediss://, with its own user, password and TLS) or a profile of
 * the config file; the wait bound and the config file apply to both.
 */
export interface SidesFlags {
  from: string;
  to: string;
  timeout?: string;
  config?: string;
}

export function addSidesOptions(cmd: Command, help: { from: string; to: string }): Command {
  return cmd
    .requiredOption('--from <url|profile>', `${help.from}: redis://… or rediss://…, or a profile of the config file`)
    .requiredOption('--to <url|profile>', help.to)
    .option('--timeout <dur>', 'the bound on each wait, on both sides (default 10s)')
    .option('--config <file>', 'config file with the profiles');
}

/** One side's connection flags. */
export function sideFlags(text: string, flag: string, f: { timeout?: string; config?: string }): ConnectionFlags {
  if (!text.trim()) throw new UsageError(`${flag} is empty (an unset variable?): nothing was done`);
  const base = { ...(f.timeout !== undefined ? { timeout: f.timeout } : {}), ...(f.config !== undefined ? { config: f.config } : {}) };
  return /^[a-z]+:\/\//i.test(text) ? { ...base, url: text } : { ...base, profile: text };
}
