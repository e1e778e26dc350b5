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

describe('tables fit the terminal (issue 15, item 5)', async () => {
  const { fitWidth, cutMiddle } = await import('../../src/output/table.js');
  it('cuts long cells in the middle so the row fits; nothing is cut off a terminal', () => {
    const rows = [['key', 'type', 'memory'], [`session:${'9f2c'.repeat(20)}:profile`, 'string', '1.2 MB'], ['short', 'hash', '10 B']];
    const fitted = fitWidth(rows, 40);
    for (const r of fitted) expect(r.join('  ').length).toBeLessThanOrEqual(40);
    expect(fitted[1]![0]).toMatch(/^session:9f2c.*….*:profile$/);
    expect(fitted[2]).toEqual(['short', 'hash', '10 B']);
    expect(fitWidth(rows, null)).toEqual(rows);
    expect(cutMiddle('abcdefghij', 5)).toBe('ab…ij');
  });
});

describe('jsonText: exact JSON that is safe for a terminal', async () => {
  const { jsonText } = await import('../../src/output/output.js');
  it('escapes DEL, the C1 controls and the line separators; parses back to the same value', () => {
    const value = { key: 'a\u0085b\u009bc\u007fd\u2028e', n: 1 };
    const text = jsonText(value);
    expect(text).toBe('{"key":"a\\u0085b\\u009bc\\u007fd\\u2028e","n":1}');
    expect(text).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
