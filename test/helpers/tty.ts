import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing `keys` into
 * it once the prompt has had time to appear. Output is the terminal's, merged.
 */
export function runInTty(args: string[], opts: { keys?: string[]; env?: Record<string, string>; waitFor?: RegExp; cols?: number } = {}): Promise<{ code: number; output: string }> {
  // A real size, as a terminal has: spinners and prompts depend on it.
  const command = `stty cols ${opts.cols ?? 120} rows 40; ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', REDIS_URL: 'redis://127.0.0.1:1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    const keys = [...(opts.keys ?? [])];
    const typeNext = () => {
      const k = keys.shift();
      if (k === undefined) return;
      child.stdin.write(k);
      setTimeout(typeNext, 300);
    };
    // Wait for the prompt before typing: a pty drops input typed too early in some modes.
    const waitForPrompt = setInterval(() => {
      if ((opts.waitFor ?? /Proceed\?/).test(output)) {
        clearInterval(waitForPrompt);
        typeNext();
      }
    }, 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearInterval(waitForPrompt);
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}
