import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { addressOf, type ConnectionSpec } from '../connect/spec.js';
import type { MetricFamily } from './metrics.js';
import { Problems } from './problems.js';
import { Scraper, type ExporterSettings } from './scraper.js';

export interface ExporterOptions {
  settings: ExporterSettings;
  /** The deployment /metrics serves. */
  spec: ConnectionSpec;
  /** A /probe target by name: its connection, or a reason it is refused (never another host unless allowed). */
  resolveProbe: (target: string) => Promise<ConnectionSpec>;
  scrapeTimeoutMs: number;
  /** The text of a scrape in the format the Accept header asks for. */
  render: (families: MetricFamily[], accept: string | undefined) => { body: string; contentType: string };
  log: (line: string) => void;
}

/** Probe targets kept open at once; the least recently scraped is closed beyond this. */
const MAX_PROBE_TARGETS = 64;
/** Left for our own answer out of the scraper's timeout. */
const REPLY_MARGIN_MS = 250;

/**
 * The long-running exporter: /metrics for the configured deployment,
 * /probe?target=NAME for the others (each kept open between scrapes),
 * /healthz for the process itself.
 */
export class Exporter {
  private readonly problems: Problems;
  private readonly main: Scraper;
  private readonly probes = new Map<string, Scraper>();
  private server: Server | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: ExporterOptions) {
    this.problems = new Problems(opts.log);
    this.main = new Scraper(opts.spec, opts.settings, this.problems, addressOf(opts.spec));
  }

  /** Listens; resolves with the address actually bound (port 0 picks a free one). */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const server = createServer((req, res) => {
        const done = this.handle(req, res).catch((e: unknown) => {
          this.opts.log(`internal error answering ${req.url ?? ''}: ${e instanceof Error ? e.message : String(e)}`);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error\n');
        }).finally(() => this.inFlight.delete(done));
        this.inFlight.add(done);
      });
      server.keepAliveTimeout = 65_000;
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.opts.log(`http: ${e.message}`));
        this.server = server;
        const a = server.address();
        resolve(typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : String(a));
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://exporter');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET and HEAD\n', { allow: 'GET, HEAD' });
    if (url.pathname === '/healthz') return text(res, 200, 'ok\n');
    if (url.pathname === '/') return text(res, 200, 'redis-ops exporter: /metrics, /probe?target=NAME, /healthz\n');
    let scraper: Scraper;
    if (url.pathname === '/metrics') scraper = this.main;
    else if (url.pathname === '/probe') {
      const name = url.searchParams.get('target') ?? '';
      if (!name.trim()) return text(res, 400, 'probe needs ?target=NAME (a profile of the config file)\n');
      try {
        scraper = await this.probe(name);
      } catch (e) {
        return text(res, 400, `${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
      }
    } else return text(res, 404, 'not found: /metrics, /probe?target=NAME, /healthz\n');
    const families = await scraper.scrape(this.timeoutFor(req));
    const { body, contentType } = this.opts.render(families, req.headers.accept);
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** The scraper's own timeout (Prometheus sends it) less a margin, within --scrape-timeout. */
  private timeoutFor(req: IncomingMessage): number {
    const header = Number(req.headers['x-prometheus-scrape-timeout-seconds']);
    const asked = Number.isFinite(header) && header > 0 ? header * 1000 - REPLY_MARGIN_MS : Infinity;
    return Math.max(100, Math.min(this.opts.scrapeTimeoutMs, asked));
  }

  private async probe(name: string): Promise<Scraper> {
    const known = this.probes.get(name);
    if (known) {
      // Most recently used last: the first is the one to close when there are too many.
      this.probes.delete(name);
      this.probes.set(name, known);
      return known;
    }
    const spec = await this.opts.resolveProbe(name);
    // Logged by address: a URL given as the target may carry a password.
    const s = new Scraper(spec, this.opts.settings, this.problems, `probe ${addressOf(spec)}`);
    this.probes.set(name, s);
    if (this.probes.size > MAX_PROBE_TARGETS) {
      const [oldest, scraper] = this.probes.entries().next().value as [string, Scraper];
      this.probes.delete(oldest);
      void scraper.close();
    }
    return s;
  }

  /** Stops listening, lets the scrapes being answered finish, closes every connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
    }
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([this.main.close(), ...[...this.probes.values()].map((s) => s.close())]);
  }
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

