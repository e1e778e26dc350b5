/**
 * A long-running process logs a problem once, when it starts, and once more
 * when it is over, never at every scrape: a node down for a day is two log
 * lines, not 8,640.
 */
export class Problems {
  private readonly open = new Map<string, string>();

  constructor(private readonly log: (line: string) => void) {}

  report(key: string, message: string): void {
    if (this.open.has(key)) return;
    this.open.set(key, message);
    this.log(message);
  }

  clear(key: string): void {
    const was = this.open.get(key);
    if (was === undefined) return;
    this.open.delete(key);
    this.log(`ok again: ${key}`);
  }

  get count(): number {
    return this.open.size;
  }
}
