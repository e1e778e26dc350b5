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
