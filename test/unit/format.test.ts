import { describe, expect, it } from 'vitest';
import { formatCount } from '../../src/output/table.js';

describe('formatCount', () => {
  it('groups thousands with commas, as toLocaleString("en-US") does, and rounds', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 1_000_000, 198_000, 9_876_543_210, -1, -1234, -1_234_567, 1234.4, 1234.5, -0.2]) {
      expect(formatCount(n)).toBe(Math.round(n).toLocaleString('en-US').replace('-0', '0'));
    }
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(null)).toBe('-');
    expect(formatCount(undefined)).toBe('-');
  });
});
