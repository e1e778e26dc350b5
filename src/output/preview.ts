import type { Output } from './output.js';

/**
 * What a dry run would change, item by item: at most `show` lines of text
 * (each with the reason it was selected), then how many more; with --json,
 * every item as an NDJSON line. Items are streamed, never held.
 */
export class DryRunList {
  private shown = 0;
  private more = 0;

  constructor(private readonly out: Output, private readonly show: number) {}

  async add(text: string, record: Record<string, unknown>): Promise<void> {
    if (this.out.json) {
      await this.out.ndjson([record]);
      return;
    }
    if (this.shown < this.show) {
      this.shown++;
      await this.out.write(`${text}\n`);
    } else this.more++;
  }

  /** The line after the list: how many were not shown. */
  async finish(): Promise<void> {
    if (!this.out.json && this.more > 0) await this.out.write(moreLine(this.more));
  }
}

/** A dry run's text listing of items already in hand: the first `show` lines, then how many more. */
export async function writeFirst(out: Output, lines: string[], show: number): Promise<void> {
  for (const line of lines.slice(0, show)) await out.write(`${line}\n`);
  if (lines.length > show) await out.write(moreLine(lines.length - show));
}

function moreLine(n: number): string {
  return `… and ${n} more (--show N lists more; --json lists all)\n`;
}
