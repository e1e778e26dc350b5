import { Command, type Option } from 'commander';
import { UsageError } from '../errors.js';
import { KEY_TYPES } from '../lib/scan/walk.js';
import { addConnectionOptions } from './context.js';
import { ioFor } from './io.js';

/**
 * Shell completion. The scripts are thin: they hand the words typed so far
 * to `redis-ops __complete`, which answers from the same command tree the
 * CLI parses with (commands, subcommands, flags, and the values of a few
 * flags: profiles from the config file, key types, formats).
 */
const SCRIPTS: Record<string, string> = {
  bash: `# redis-ops completion for bash: source <(redis-ops completion bash)
_redis_ops() {
  local IFS=$'\\n'
  COMPREPLY=( $(redis-ops __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
}
complete -o default -F _redis_ops redis-ops
`,
  zsh: `#compdef redis-ops
# redis-ops completion for zsh: source <(redis-ops completion zsh)
_redis_ops() {
  local -a candidates
  candidates=(\${(f)"$(redis-ops __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)"})
  (( \${#candidates} )) && compadd -a candidates || _files
}
compdef _redis_ops redis-ops
`,
  fish: `# redis-ops completion for fish: redis-ops completion fish | source
function __redis_ops_complete
  set -l words (commandline -opc) (commandline -ct)
  redis-ops __complete -- $words[2..-1] 2>/dev/null
end
complete -c redis-ops -a '(__redis_ops_complete)'
`,
};

export function registerCompletion(program: Command): void {
  program.command('completion <shell>')
    .description('print a shell completion script: bash, zsh or fish (e.g. source <(redis-ops completion bash))')
    .action((shell: string, _f, cmd: Command) => {
      const script = SCRIPTS[shell];
      if (!script) throw new UsageError(`completion: "${shell}" is not bash, zsh or fish`);
      ioFor(cmd).stdout.write(script);
    });
  program.command('__complete', { hidden: true })
    .argument('[words...]')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (words: string[], _f, cmd: Command) => {
      const candidates = await complete(program, words ?? []);
      if (candidates.length) ioFor(cmd).stdout.write(`${candidates.join('\n')}\n`);
    });
}

const VALUES: Record<string, (words: string[]) => Promise<string[]> | string[]> = {
  '--type': () => [...KEY_TYPES],
  '--format': () => ['table', 'json', 'nagios'],
  '--ttl': () => ['absolute', 'relative', 'none'],
  '--fail-on': () => ['warn', 'crit'],
  '--profile': async (words) => {
    const { loadConfig } = await import('../lib/config.js');
    const at = words.indexOf('--config');
    try {
      return Object.keys(loadConfig(at >= 0 ? words[at + 1] : undefined).profiles);
    } catch {
      return [];
    }
  },
};

/** The candidates for the last word, given the words before it. */
export async function complete(program: Command, words: string[]): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  let cmd = program;
  let expectsValueOf: Option | null = null;
  for (const w of before) {
    // Before a command is named, an option is a connection or output one.
    if (expectsValueOf) {
      expectsValueOf = null;
      continue;
    }
    if (w.startsWith('-')) {
      const option = optionOf(cmd.parent ? (cmd.options as Option[]) : options(cmd), w);
      if (option && (option.required || option.optional) && !w.includes('=')) expectsValueOf = option;
      continue;
    }
    const sub = (cmd.commands as Command[]).find((c) => c.name() === w && !c.name().startsWith('__'));
    if (sub) cmd = sub;
  }
  if (expectsValueOf) {
    const values = VALUES[expectsValueOf.long ?? ''];
    return values ? (await values(before)).filter((v) => v.startsWith(current)) : [];
  }
  if (current.startsWith('-')) {
    return options(cmd).map((o) => o.long).filter((f): f is string => Boolean(f?.startsWith(current))).sort();
  }
  return (cmd.commands as Command[]).map((c) => c.name()).filter((n) => !n.startsWith('__') && n !== 'help' && n.startsWith(current)).sort();
}

/** A command's options; before a command is named, the connection and output options (they may come first). */
function options(cmd: Command): Option[] {
  if (!cmd.parent) return addConnectionOptions(new Command('global')).options as Option[];
  return (cmd.options as Option[]).filter((o) => !o.hidden);
}

function optionOf(list: Option[], flag: string): Option | undefined {
  const name = flag.split('=')[0];
  return list.find((o) => o.long === name || o.short === name);
}
