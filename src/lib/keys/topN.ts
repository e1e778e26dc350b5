/** Keeps the N largest items by a numeric score, in O(N) memory. */
export class TopN<T> {
  private items: { score: number; item: T }[] = [];
  private min = -Infinity;

  constructor(private readonly n: number) {}

  /** Whether an item of this score would be kept (to skip building one that would not). */
  wants(score: number): boolean {
    return this.n > 0 && (this.items.length < this.n || score > this.min);
  }

  offer(score: number, make: () => T): void {
    if (this.n <= 0) return;
    if (this.items.length >= this.n && score <= this.min) return;
    this.items.push({ score, item: make() });
    // Sorting only when twice full keeps offers amortised O(1).
    if (this.items.length > this.n * 2) this.compact();
  }

  /** Replaces the items (already re-scored elsewhere, e.g. measured exactly). */
  replace(items: T[], score: (item: T) => number): void {
    this.items = items.map((item) => ({ score: score(item), item }));
    this.compact();
  }

  result(): T[] {
    this.compact();
    return this.items.map((x) => x.item);
  }

  private compact(): void {
    this.items.sort((a, b) => b.score - a.score);
    this.items.length = Math.min(this.items.length, this.n);
    if (this.n > 0 && this.items.length >= this.n) this.min = this.items[this.items.length - 1]!.score;
  }
}
