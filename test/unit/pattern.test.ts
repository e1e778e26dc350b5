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

describe('patternInto: the byte path agrees with inferKeyPattern', async () => {
  const { patternInto } = await import('../../src/lib/keys/pattern.js');
  const { PatternGroups } = await import('../../src/lib/keys/patternGroups.js');
  const { keyText } = await import('../../src/lib/keyname.js');
  // Segments of every kind the classifier tells apart, and the edges (empty, "*", separators in a row).
  const segments = [
    '', '*', 'user', 'profile', 'v2', '17', '0', '12345', '2026-11-30', '2026-W48', '10.0.3.7', 'ada.lovelace@example.com', 'a@b',
    '3f1c2a9e-8d7b-4c6a-9e1f-0a2b3c4d5e6f', '9f86d081884c7d659a2feaa0c55ad015', 'deadbeefcafe', 'deadbeefcaf1', 'file_003', 'user12',
    'job42', 'sess-9f2c44aa01', '01HZX3KQ7V8M2N4P6R9T0W1Y2Z', '2CdP8a7hJ1gXfQ3vR9kLmN0sTuW', 'aB3-_x9YzQw8LmN2', 'x+y/z=.', 'a b', '~!#$%',
    '1764460800123', 'ABCDEF0123456789', 'abc-def', 'db8', '2001', '::',
  ];
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const keys: string[] = [];
  for (const a of segments) for (const b of segments) keys.push(`${a}:${b}`, `${a}/${b}`, `${a}${b}`);
  for (let i = 0; i < 20_000; i++) keys.push(Array.from({ length: 1 + rand(9) }, () => segments[rand(segments.length)]).join(rand(4) ? ':' : '/'));
  keys.push('ratelimit:ip:2001:db8::1', 'a:b:c:d:e:f:g:h', 'a::b', ':', '::', '', 'caf\u00e9:1', 'back\\slash:1', 'tab\there:2');

  it.each([
    [':', 1], [':', 2], [':', 3], [':', 4], [':', 0], ['/', 3], ['-', 2], ['', 3], ['::', 3],
  ])('separator %j, depth %i: the same pattern for %#', (separator, depth) => {
    const opts = { separator, depth };
    const out = Buffer.alloc(1024);
    let fast = 0;
    for (const k of keys) {
      const key = Buffer.from(k, 'utf8');
      const want = inferKeyPattern(keyText(key), opts);
      const n = patternInto(key, opts, out);
      if (n >= 0) {
        fast++;
        expect(out.toString('utf8', 0, n), k).toBe(want);
      }
    }
    // The byte path takes the plain keys; the rest go through the strings.
    expect(fast > 0).toBe(separator.length === 1);
  });

  it('groups by database and pattern, in the order first seen, whichever path found them', () => {
    const g = new PatternGroups<{ pattern: string; db: number; n: number }>({ separator: ':', depth: 3 });
    const add = (key: string | Buffer, db: number) => g.find(Buffer.isBuffer(key) ? key : Buffer.from(key), db, (pattern) => ({ pattern, db, n: 0 }))!.n++;
    add('user:1:profile', 0);
    add('caf\u00e9:1', 0);
    add('user:2:profile', 0);
    add('user:3:profile', 1);
    add('caf\u00e9:22', 0);
    add(Buffer.from([0xff, 0x3a, 0x31]), 0);
    add(Buffer.from([0xff, 0x3a, 0x32]), 0);
    add('ratelimit:ip:2001:db8::1', 0);
    add('ratelimit:ip:10.0.0.1', 0);
    expect(g.values().map((x) => [x.db, x.pattern, x.n])).toEqual([
      [0, 'user:*:profile', 2], [0, 'caf\u00e9:*', 2], [1, 'user:*:profile', 1], [0, '\\xff:*', 2], [0, 'ratelimit:ip:*', 2],
    ]);
  });

  it('a group that is not made (too many) is not kept: the next key asks again', () => {
    const g = new PatternGroups<string>({ separator: ':', depth: 3 });
    let asked = 0;
    expect(g.find(Buffer.from('a:1'), 0, () => { asked++; return null; })).toBeNull();
    expect(g.find(Buffer.from('a:2'), 0, () => { asked++; return null; })).toBeNull();
    expect([asked, g.size]).toEqual([2, 0]);
  });
});
