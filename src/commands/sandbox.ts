import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { parsePositiveInt } from '../lib/duration.js';
import { addOutputOptions, outputFor, report } from './context.js';
import { setExitCode } from './io.js';
import { formatCount } from '../output/table.js';

export function registerSandbox(program: Command): void {
  addOutputOptions(
    program.command('sandbox')
      .description('start a throwaway redis-server filled with realistic sample data; Ctrl-C stops it')
      .option('--port <port>', 'port to listen on (default: a free one)')
      .option('--keys <n>', 'about how many small keys to create', '20000')
      .option('--no-big', 'leave out the big keys (100k list, 50k zset, 30k set, 2 MB string)')
      .option('--cluster', 'start a 3-master cluster instead of one server')
      .option('--demo', 'run `keys stats` against the sandbox once it is filled'),
  ).action(async (_f, cmd: Command) => {
    const f = cmd.opts<{ port?: string; keys: string; big: boolean; cluster?: boolean; demo?: boolean; json?: boolean }>();
    const out = outputFor(f, cmd);
    const keys = parsePositiveInt(f.keys, '--keys');
    const { startSandbox } = await import('../lib/sandbox/dataset.js');
    const port = f.port !== undefined ? parsePositiveInt(f.port, '--port') : undefined;
    const progress = await out.progress('starting redis-server…');
    let sandbox;
    try {
      sandbox = await startSandbox({ cluster: Boolean(f.cluster), port, keys, big: f.big, onStep: (what) => progress.update(what) });
    } finally {
      progress.stop();
    }
    const { url, cluster } = sandbox;
    try {
      await report({ url, cluster, keys: sandbox.keys, patterns: sandbox.patterns }, async (out) => {
        await out.write(`${out.c.green('Sandbox ready')}: ${url}${cluster ? ' (3-master cluster)' : ''} with ${formatCount(sandbox.keys)} keys\n\n`);
        // From a checkout, redis-ops is not on the PATH until `npm link`: the hint must work as pasted.
        const alias = onPath('redis-ops') ? '' : `  alias redis-ops="${process.execPath} ${process.argv[1]}"   # or, once: npm link\n`;
        await out.write(`Try, in another terminal:\n${alias}  export REDIS_URL=${url}\n  redis-ops keys stats\n  redis-ops keys scan 'lock:*' --no-ttl\n  redis-ops keys inspect tts_queue\n  redis-ops keys delete 'tts_status_cache:*' --dry-run\n  redis-ops queue stats\n  redis-ops queue retry-drain tts_queue --dry-run\n  redis-ops workers\n\nCtrl-C stops the server and deletes its data.\n`);
      }).present(out);
      if (f.demo) {
        await new Promise<void>((resolve) => {
          const child = spawn(process.execPath, [process.argv[1]!, 'keys', 'stats', '--url', url, '--top', '5', '--groups', '12'], { stdio: 'inherit' });
          child.on('exit', () => resolve());
        });
        out.info('\nThe sandbox keeps running for you to try more; Ctrl-C stops it.');
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    } finally {
      await sandbox.stop();
    }
    setExitCode(cmd, ExitCode.ok);
  });
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
