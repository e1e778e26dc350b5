import { describe, expect, it } from 'vitest';
import { inferKeyPattern, isIdLike } from '../../src/lib/keys/pattern.js';

const opts = { separator: ':', depth: 3 };

describe('inferKeyPattern', () => {
  it.each([
    ['user:17:profile', 'user:*:profile'],
    ['user:42:profile', 'user:*:profile'],
    ['tts_status:3f1c2a9e-8d7b-4c6a-9e1f-0a2b3c4d5e6f', 'tts_status:*'],
    ['audio_cache:9f86d081884c7d659a2feaa0c55ad015', 'audio_cache:*'],
    ['progress:3f1c2a9e-8d7b-4c6a-9e1f-0a2b3c4d5e6f:file_003', 'progress:*:file_*'],
    ['rate_limit:user12:tts', 'rate_limit:user*:tts'],
    ['tts_queue', 'tts_queue'],
    ['a:b:c:d:e', 'a:b:c:*'],
    ['job:123:file:456', 'job:*:file:*'],
  ])('%s → %s', (key, pattern) => {
    expect(inferKeyPattern(key, opts)).toBe(pattern);
  });

  it('keeps only `depth` segments', () => {
    expect(inferKeyPattern('user:17:profile', { separator: ':', depth: 1 })).toBe('user:*');
  });

  it('uses the given separator', () => {
    expect(inferKeyPattern('cache/9/items', { separator: '/', depth: 3 })).toBe('cache/*/items');
  });

  it('does not collapse words', () => {
    expect(isIdLike('profile')).toBe(false);
    expect(isIdLike('v2')).toBe(false);
    expect(isIdLike('12345')).toBe(true);
  });
});

describe('values people key by collapse to * (issue 15, item 9)', async () => {
  const { inferKeyPattern } = await import('../../src/lib/keys/pattern.js');
  const p = (key: string, depth = 4) => inferKeyPattern(key, { separator: ':', depth });
  it.each([
    ['ratelimit:ip:10.0.3.7', 'ratelimit:ip:*'],
    ['ratelimit:ip:2001:db8::1', 'ratelimit:ip:*'],
    ['ratelimit:ip:2001:db8:0:0:0:0:2:1:hits', 'ratelimit:ip:*:hits'],
    ['ratelimit:ip:::1', 'ratelimit:ip:*'],
    ['stats:2026-11-30:views', 'stats:*:views'],
    ['stats:20261130:views', 'stats:*:views'],
    ['report:2026-W48', 'report:*'],
    ['seen:1764460800', 'seen:*'],
    ['seen:1764460800123', 'seen:*'],
    ['user:ada.lovelace@example.com:prefs', 'user:*:prefs'],
    ['job:01HZX3KQ7V8M2N4P6R9T0W1Y2Z', 'job:*'],
    ['job:2CdP8a7hJ1gXfQ3vR9kLmN0sTuW', 'job:*'],
    ['token:aB3-_x9YzQw8LmN2', 'token:*'],
    ['user:profile:settings', 'user:profile:settings'],
    ['a:b:c:d', 'a:b:c:d'],
    ['cache:page:home', 'cache:page:home'],
  ])('%s → %s', (key, pattern) => {
    expect(p(key)).toBe(pattern);
  });
  it('1,000 rate-limit keys by IP (v4 and v6) are one pattern', () => {
    const patterns = new Set<string>();
    for (let i = 0; i < 500; i++) patterns.add(p(`ratelimit:ip:10.0.${i % 256}.${(i * 7) % 256}`, 3));
    for (let i = 0; i < 500; i++) patterns.add(p(`ratelimit:ip:2001:db8::${i.toString(16)}`, 3));
    expect([...patterns]).toEqual(['ratelimit:ip:*']);
  });
});
