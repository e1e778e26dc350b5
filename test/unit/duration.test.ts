import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parsePositiveInt } from '../../src/lib/duration.js';
import { UsageError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500], ['90s', 90_000], ['10m', 600_000], ['1h30m', 5_400_000], ['2d', 172_800_000], ['1w', 604_800_000],
    ['30', 30_000], ['1.5h', 5_400_000], ['1H', 3_600_000],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '10x', '1h-', '-5s', 'h1'])('rejects %j with a usage error naming the flag', (text) => {
    expect(() => parseDuration(text, '--stale-after')).toThrow(UsageError);
    expect(() => parseDuration(text, '--stale-after')).toThrow(/--stale-after/);
  });
});

describe('formatDuration', () => {
  it('keeps the two largest units', () => {
    expect(formatDuration(93_784_000)).toBe('1d2h');
    expect(formatDuration(200_000)).toBe('3m20s');
    expect(formatDuration(850)).toBe('850ms');
  });
});

describe('parsePositiveInt', () => {
  it('accepts whole numbers and rejects the rest', () => {
    expect(parsePositiveInt('42', '--limit')).toBe(42);
    expect(() => parsePositiveInt('0', '--limit')).toThrow(/--limit/);
    expect(parsePositiveInt('0', '--top', { allowZero: true })).toBe(0);
    expect(() => parsePositiveInt('1.5', '--limit')).toThrow(UsageError);
    expect(() => parsePositiveInt('-3', '--limit')).toThrow(UsageError);
  });
});
