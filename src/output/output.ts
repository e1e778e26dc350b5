import { once } from 'node:events';
import { Chalk, type ChalkInstance } from 'chalk';
import { terminalSafe } from '../lib/keyname.js';

export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  color?: boolean; // Commander's --no-color sets this to false
  debug?: boolean;
}

export interface Streams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

export interface Progress {
  /** false when nothing is shown: callers can skip building the text. */
  readonly active: boolean;
  update(text: string): void;
  stop(): void;
}

const noProgress: Progress = { active: false, update() {}, stop() {} };

/**
 * JSON as JSON.stringify writes it, with the characters it leaves raw but a
 * terminal may act on (DEL, the C1 controls U+0080–U+009F) and the line
 * separators U+2028/U+2029 written as \u escapes: the same value, still exact,
 * and nothing in it reaches a terminal as a control sequence.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * What a closed stdout means. For a listing (`keys scan | head`) the reader
 * has what it wanted: stop quietly, exit 0. For a command whose output is
 * its product (a backup on stdout, the report of a write) it is a failure:
 * the run stops at its next safe point and exits 1, saying how far it got.
 */
const stdoutState = { product: false, closed: false, listeners: [] as (() => void)[] };

export function stdoutIsProduct(onClose: () => void): void {
  stdoutState.product = true;
  stdoutState.listeners.push(onClose);
}

/** Called by the CLI when writing to stdout fails with EPIPE; false when the process should just leave. */
export function stdoutClosedUnderUs(): boolean {
  if (!stdoutState.product) return false;
  if (!stdoutState.closed) {
    stdoutState.closed = true;
    for (const l of stdoutState.listeners) l();
  }
  return true;
}

export function stdoutWasClosed(): boolean {
  return stdoutState.closed;
}

/**
 * The one place that decides colour, TTY behaviour, progress and where text
 * goes: data to stdout (JSON, NDJSON, tables), everything else to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly debug: boolean;
  readonly colour: boolean;
  readonly c: ChalkInstance;
  private readonly streams: Streams;
  /** The spinner on stderr, while one runs: cleared before data goes to stdout (they may share a terminal). */
  private spinner: { clear(): unknown } | null = null;

  constructor(flags: OutputFlags, streams: Streams = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }) {
    this.streams = streams;
    this.json = Boolean(flags.json);
    this.quiet = Boolean(flags.quiet);
    this.debug = Boolean(flags.debug);
    const env = streams.env;
    this.colour =
      flags.color !== false && !('NO_COLOR' in env && env.NO_COLOR !== '') && env.TERM !== 'dumb' &&
      (Boolean(streams.stdout.isTTY) || (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'));
    this.c = new Chalk({ level: this.colour ? 1 : 0 });
  }

  /** A person is there to answer a question: both stdin and stderr are terminals. */
  get interactive(): boolean {
    return Boolean(this.streams.stdin.isTTY && this.streams.stderr.isTTY);
  }

  get stdoutIsTTY(): boolean {
    return Boolean(this.streams.stdout.isTTY);
  }

  /** The terminal's width for tables to fit; null off a terminal (nothing is cut there). */
  get width(): number | null {
    return this.streams.stdout.isTTY && this.streams.stdout.columns ? this.streams.stdout.columns : null;
  }

  get stderrIsTTY(): boolean {
    return Boolean(this.streams.stderr.isTTY);
  }

  /**
   * Writes data to stdout, waiting when the reader is slower than we are.
   * Text passes terminalSafe (no control sequence from data reaches a
   * terminal); bytes (keys scan -0) are written as they are.
   */
  async write(chunk: string | Buffer): Promise<void> {
    const data = typeof chunk === 'string' ? terminalSafe(chunk, this.colour) : chunk;
    // The spinner redraws itself on its next frame, on a line of its own.
    this.spinner?.clear();
    if (!this.streams.stdout.write(data)) await once(this.streams.stdout, 'drain');
  }

  /**
   * Draws `text` over the terminal from the top (a refreshing view): each
   * line overwrites the one before and erases what is left of it, then the
   * rest of the screen is erased, so nothing blinks between frames.
   */
  async redraw(text: string): Promise<void> {
    const rows = this.streams.stdout.rows || Infinity;
    const lines = terminalSafe(text.replace(/\n$/, ''), this.colour).split('\n').slice(0, rows);
    const frame = `\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`;
    if (!this.streams.stdout.write(frame)) await once(this.streams.stdout, 'drain');
  }

  /** The terminal's height, for views that must fit one screen (null off a terminal). */
  get height(): number | null {
    return this.streams.stdout.isTTY && this.streams.stdout.rows ? this.streams.stdout.rows : null;
  }

  /**
   * A full-screen view: the alternate screen, no cursor, keys one at a time.
   * The returned function puts the terminal back as it was (also on exit).
   */
  enterScreen(onKey: (key: string) => void): () => void {
    const { stdout, stdin } = this.streams;
    stdout.write('\x1b[?1049h\x1b[?25l');
    const raw = Boolean(stdin.isTTY && stdin.setRawMode);
    if (raw) stdin.setRawMode(true);
    const listener = (d: Buffer) => onKey(d.toString('utf8'));
    stdin.on('data', listener);
    stdin.resume();
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      stdin.off('data', listener);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdout.write('\x1b[?25h\x1b[?1049l');
      process.off('exit', leave);
    };
    process.on('exit', leave);
    return leave;
  }

  /** One JSON document on stdout (pretty, or one line with `compact`): exact, and safe for a terminal (see jsonText). */
  async jsonDocument(value: unknown, compact = false): Promise<void> {
    await this.writeRaw(`${jsonText(value, compact ? undefined : 2)}\n`);
  }

  async ndjson(records: unknown[]): Promise<void> {
    if (records.length === 0) return;
    await this.writeRaw(records.map((r) => jsonText(r)).join('\n') + '\n');
  }

  /** A JSON summary on stderr (when stdout carries the data itself). */
  infoJson(value: unknown): void {
    this.spinner?.clear();
    if (!this.quiet) this.streams.stderr.write(`${jsonText(value)}\n`);
  }

  private async writeRaw(text: string): Promise<void> {
    this.spinner?.clear();
    if (!this.streams.stdout.write(text)) await once(this.streams.stdout, 'drain');
  }

  /** Informational text for people; silenced by -q. */
  info(message: string): void {
    this.spinner?.clear();
    if (!this.quiet) this.streams.stderr.write(`${terminalSafe(message, this.colour)}\n`);
  }

  warn(message: string): void {
    this.spinner?.clear();
    this.streams.stderr.write(`${this.c.yellow(terminalSafe(message, false))}\n`);
  }

  error(message: string): void {
    this.streams.stderr.write(`${this.c.red('error:')} ${terminalSafe(message, false)}\n`);
  }

  /** A spinner with a status line on stderr, only on a TTY and not with -q. */
  async progress(initial: string): Promise<Progress> {
    // A terminal that reports no width (a bare pty) would make ora clear lines forever.
    if (this.quiet || !this.stderrIsTTY || this.streams.env.TERM === 'dumb' || !this.streams.stderr.columns) return noProgress;
    const { default: ora } = await import('ora');
    const spinner = ora({ text: initial, stream: this.streams.stderr, color: 'cyan', isEnabled: true, discardStdin: false }).start();
    this.spinner = spinner;
    let last = 0;
    const forget = () => { if (this.spinner === spinner) this.spinner = null; };
    return {
      active: true,
      update: (text: string) => {
        const now = Date.now();
        if (now - last < 100) return; // ten redraws a second is plenty
        last = now;
        // One line: a status longer than the terminal would wrap, and every redraw then leaves a line behind.
        const room = (this.streams.stderr.columns ?? 80) - 3;
        spinner.text = text.length > room ? `${text.slice(0, Math.max(0, room - 1))}…` : text;
      },
      stop() {
        spinner.stop();
        forget();
      },
    };
  }

  /** Asks a yes/no question on the terminal (stderr); false when no one can answer. */
  async confirm(question: string): Promise<boolean> {
    if (!this.interactive) return false;
    const { confirm } = await import('@inquirer/prompts');
    return confirm({ message: question, default: false }, { input: this.streams.stdin, output: this.streams.stderr });
  }

  /** Asks for a line of text on the terminal (stderr); empty when no one can answer. */
  async ask(question: string): Promise<string> {
    if (!this.interactive) return '';
    const { input } = await import('@inquirer/prompts');
    return input({ message: question }, { input: this.streams.stdin, output: this.streams.stderr });
  }

  async askSecret(question: string): Promise<string> {
    const { password } = await import('@inquirer/prompts');
    return password({ message: question, mask: '*' }, { input: this.streams.stdin, output: this.streams.stderr });
  }
}
