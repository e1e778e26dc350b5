/**
 * The keys of a backup, as 64-bit fingerprints of (db, key): 8 bytes and a
 * line number each, so that a walk of millions of keys stays small. Two
 * distinct keys share a fingerprint with a chance of about n²/2⁶⁵ (3·10⁻⁸
 * for a million keys): the writer then leaves the second out as a SCAN
 * duplicate, and verify calls it a repeated key.
 */
export class KeySet {
  // 64k slots to start (768 KB): most backups never grow the table.
  private hi = new Uint32Array(1 << 16);
  private lo = new Uint32Array(1 << 16);
  private line = new Uint32Array(1 << 16);
  private size = 0;

  /** Adds (db, key); returns 0 when new, else the line it was first added with (or 1 when none was given). */
  add(db: number, key: Buffer, lineNo = 1): number {
    let h1 = (0x811c9dc5 ^ db) >>> 0;
    let h2 = (0x050c5d1f ^ Math.imul(db, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < key.length; i++) {
      h1 = Math.imul(h1 ^ key[i]!, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ key[i]!, 0x5bd1e995) >>> 0;
      // Kept unsigned, as the table stores it: a signed value would never match its own stored copy.
      h2 = (h2 ^ (h2 >>> 15)) >>> 0;
    }
    // 0/0 marks an empty slot.
    if (h1 === 0 && h2 === 0) h2 = 1;
    const mask = this.hi.length - 1;
    let slot = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
    for (;;) {
      if (this.hi[slot] === 0 && this.lo[slot] === 0) break;
      if (this.hi[slot] === h1 && this.lo[slot] === h2) return this.line[slot] || 1;
      slot = (slot + 1) & mask;
    }
    this.hi[slot] = h1;
    this.lo[slot] = h2;
    this.line[slot] = lineNo;
    if (++this.size * 2 > this.hi.length) this.grow();
    return 0;
  }

  private grow(): void {
    const [hi, lo, line] = [this.hi, this.lo, this.line];
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(hi.length * 2);
    this.line = new Uint32Array(hi.length * 2);
    const mask = this.hi.length - 1;
    for (let i = 0; i < hi.length; i++) {
      if (hi[i] === 0 && lo[i] === 0) continue;
      let slot = (hi[i]! ^ Math.imul(lo[i]!, 0x27d4eb2d)) & mask;
      while (this.hi[slot] !== 0 || this.lo[slot] !== 0) slot = (slot + 1) & mask;
      this.hi[slot] = hi[i]!;
      this.lo[slot] = lo[i]!;
      this.line[slot] = line[i]!;
    }
  }
}
