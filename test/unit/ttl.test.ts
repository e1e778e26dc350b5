import { describe, expect, it } from 'vitest';
import { ageFieldOf, parseTimestamp } from '../../src/lib/ttl/age.js';

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-20T10:00:00', Date.UTC(2026, 10, 20, 10)],
    ['2026-11-20T10:00:00.250000', Date.UTC(2026, 10, 20, 10, 0, 0, 250)],
    ['2026-11-20T10:00:00Z', Date.UTC(2026, 10, 20, 10)],
    ['2026-11-20T12:00:00+02:00', Date.UTC(2026, 10, 20, 10)],
    ['2026-11-20 10:00:00', Date.UTC(2026, 10, 20, 10)],
    ['2026-11-20', Date.UTC(2026, 10, 20)],
    ['1795380000', 1795380000_000],
    ['1795380000.5', 1795380000_500],
    ['1795380000123', 1795380000123],
    [1795380000, 1795380000_000],
  ])('%j → %d', (text, ms) => {
    expect(parseTimestamp(text)).toBe(ms);
  });

  it.each(['', 'yesterday', 'garbage-2026', '2026-13-45T99:00:00x', null, {}, -5])('%j is not a timestamp', (v) => {
    expect(parseTimestamp(v)).toBeNull();
  });
});

describe('ageFieldOf', () => {
  it('reads a JSON string value\'s field and a hash field', () => {
    expect(ageFieldOf('string', Buffer.from('{"created_at":"2026-11-20T10:00:00"}'), 'created_at')).toEqual({ raw: '2026-11-20T10:00:00', ms: Date.UTC(2026, 10, 20, 10) });
    expect(ageFieldOf('hash', Buffer.from('1795380000'), 'created_at')).toEqual({ raw: '1795380000', ms: 1795380000_000 });
  });
  it('missing, unparsable and non-JSON values give null', () => {
    expect(ageFieldOf('string', Buffer.from('{"other":1}'), 'created_at').ms).toBeNull();
    expect(ageFieldOf('string', Buffer.from('{"created_at":"soon"}'), 'created_at')).toEqual({ raw: 'soon', ms: null });
    expect(ageFieldOf('string', Buffer.from('not json'), 'created_at').ms).toBeNull();
    expect(ageFieldOf('hash', null, 'created_at').ms).toBeNull();
  });
});
