import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs a peer script (the queue systems' own clients) and returns its JSON output. */
export function runPeer(interpreter: 'python' | 'ruby' | 'node', script: string, args: string[], env: Record<string, string> = {}): Promise<any> {
  const path = fileURLToPath(new URL(`../peers/${script}`, import.meta.url));
  const bin = interpreter === 'python' ? '/usr/bin/python3' : interpreter === 'ruby' ? 'ruby' : process.execPath;
  return new Promise((resolve, reject) => {
    execFile(bin, [path, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} failed: ${err.message}\n${stderr}`));
      else {
        try {
          resolve(JSON.parse(stdout.trim().split('\n')[0]));
        } catch {
          reject(new Error(`${script} printed no JSON: ${stdout}\n${stderr}`));
        }
      }
    });
  });
}
