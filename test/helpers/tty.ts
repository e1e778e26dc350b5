import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

const quote = (s: string) => `'${s.replace(/'/g, '\'\\\'\'')}'`;

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

/**
 * The lines a terminal shows after `output`: carriage returns, cursor moves
 * (column, home, up) and erases are applied as a terminal applies them, so a
 * spinner redrawn in place counts as the one line it is on screen. Colours
 * and other sequences are dropped.
 */
export function screenLines(output: string): string[] {
  const screen: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = () => (screen[row] ??= []);
  const re = /\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]/gu;
  for (const m of output.matchAll(re)) {
    const [all, params = '', cmd] = m;
    if (all === '\r') {
      col = 0;
    } else if (all === '\n') {
      row++;
      col = 0;
      line();
    } else if (cmd === 'G') {
      col = Math.max(0, Number(params || 1) - 1);
    } else if (cmd === 'H') {
      const [r = 1, c = 1] = params.split(';').map((x) => Number(x || 1));
      row = r - 1;
      col = c - 1;
    } else if (cmd === 'A') {
      row = Math.max(0, row - Number(params || 1));
    } else if (cmd === 'K') {
      if (params === '2') screen[row] = [];
      else line().length = Math.min(line().length, col);
    } else if (cmd === 'J') {
      // Erase below (a view redrawn in place ends its frame with it).
      line().length = Math.min(line().length, col);
      screen.length = row + 1;
    } else if (cmd === undefined) {
      const l = line();
      while (l.length < col) l.push(' ');
      l[col++] = all;
    }
  }
  return screen.map((l) => l.join(''));
}
