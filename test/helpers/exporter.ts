import { startCli, until, type RunningCli } from './cli.js';

/** One sample of a scrape: name{a="1",b="2"} → value, labels in the order written. */
export type Scrape = Map<string, number>;

/** Parses the Prometheus text format (HELP/TYPE lines and comments skipped). */
export function parseScrape(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

export function series(name: string, labels: Record<string, string | number> = {}): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export interface RunningExporter {
  cli: RunningCli;
  base: string;
  scrape(path?: string, headers?: Record<string, string>): Promise<{ status: number; text: string; type: string | null }>;
  metrics(path?: string): Promise<Scrape>;
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Starts `redis-ops exporter` on a free port and waits for it to say where it listens. */
export async function startExporter(args: string[], env: Record<string, string> = {}): Promise<RunningExporter> {
  const cli = startCli(['exporter', '--listen', '127.0.0.1:0', ...args], { env, timeoutMs: 600_000 });
  let exited = false;
  void cli.done.then(() => { exited = true; });
  await until(() => exited || /listening on http:\/\/\S+\/metrics/.test(cli.stderrSoFar()), 'the exporter to listen');
  const m = /listening on (http:\/\/\S+)\/metrics/.exec(cli.stderrSoFar());
  if (!m) throw new Error(`exporter did not start: ${cli.stderrSoFar()}`);
  const base = m[1]!;
  const scrape = async (path = '/metrics', headers: Record<string, string> = {}) => {
    const r = await fetch(`${base}${path}`, { headers });
    return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
  };
  return {
    cli,
    base,
    scrape,
    metrics: async (path = '/metrics') => {
      const r = await scrape(path);
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
      return parseScrape(r.text);
    },
    stop: async () => {
      cli.child.kill('SIGTERM');
      const r = await cli.done;
      return { code: r.code, stderr: r.stderr };
    },
  };
}
