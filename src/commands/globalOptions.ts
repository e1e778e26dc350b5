import { Command, type Option } from 'commander';
import { UsageError } from '../errors.js';
import { addConnectionOptions } from './context.js';

/**
 * redis-cli users type the connection first (`redis-ops -h cache-1 -n 2 keys
 * stats`). The connection and output options are declared on each leaf
 * command (one table: addConnectionOptions); given before the command path,
 * they are moved behind it, in their long form, so that they mean exactly
 * what they mean after it: `-n` is the database there, in every command.
 */
const GLOBAL: Option[] = addConnectionOptions(new Command('global')).options as Option[];

function globalOption(flag: string): Option | undefined {
  return GLOBAL.find((o) => o.long === flag || o.short === flag);
}

export function hoistGlobalOptions(program: Command, args: string[]): string[] {
  const moved: string[] = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    if (!arg.startsWith('-') || arg === '--' || arg === '-') break;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const option = globalOption(flag);
    if (!option) break; // --help, --version, or a mistake: Commander answers
    const takesValue = option.required || option.optional;
    if (flag === '-h' && (i + 1 >= args.length || program.commands.some((c) => c.name() === args[i + 1]))) {
      throw new UsageError('-h is the host, as in redis-cli (redis-ops -h 10.0.0.5 health); --help shows help');
    }
    if (!takesValue) {
      moved.push(option.long!);
      i += 1;
    } else if (eq > 0) {
      moved.push(option.long!, arg.slice(eq + 1));
      i += 1;
    } else {
      if (i + 1 >= args.length) break; // Commander reports the missing value
      moved.push(option.long!, args[i + 1]!);
      i += 2;
    }
  }
  if (moved.length === 0) return args;
  const rest = args.slice(i);
  // The command path: as deep as the words name subcommands.
  let cmd = program;
  let depth = 0;
  while (depth < rest.length) {
    const sub = cmd.commands.find((c) => c.name() === rest[depth] || c.aliases().includes(rest[depth]!));
    if (!sub) break;
    cmd = sub;
    depth++;
  }
  // A command that names a lock with --key takes the TLS client key as --tls-key.
  const tlsKey = cmd.options.some((o) => o.long === '--tls-key') ? '--tls-key' : '--key';
  const renamed = moved.map((a) => (a === '--key' ? tlsKey : a));
  return [...rest.slice(0, depth), ...renamed, ...rest.slice(depth)];
}
