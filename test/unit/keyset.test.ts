import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeySet } from '../../src/lib/backup/keySet.js';

describe('KeySet (SCAN duplicates in backup, repeated keys in verify and restore)', () => {
  it('knows every key it was given again, whatever its fingerprint', () => {
    const set = new KeySet();
    expect(set.add(0, Buffer.from('y'), 7)).toBe(0);
    expect(set.add(0, Buffer.from('y'), 9)).toBe(7);
    expect(set.add(1, Buffer.from('y'))).toBe(0);
    const keys = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? randomBytes(1 + (i % 40)) : Buffer.from(`user:${i}`)));
    const fresh = new KeySet();
    keys.forEach((k, i) => fresh.add(3, k, i + 1));
    // Across growing the table too (20,000 keys > 64k slots / 2 after doubling once).
    expect(keys.filter((k) => fresh.add(3, k) === 0)).toEqual([]);
  });
});
