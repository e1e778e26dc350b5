import { describe, expect, it } from 'vitest';
import { REDACTED, redactArgs, truncateArgs } from '../../src/lib/slowlog/redact.js';
import { advanceState, groupByCommand, newSince, type SlowlogEntry } from '../../src/lib/slowlog/slowlog.js';
import { parseSince } from '../../src/commands/slowlog.js';

describe('redactArgs (for servers that log secrets)', () => {
  it.each([
    [['AUTH', 'pw'], ['AUTH', REDACTED]],
    [['auth', 'user', 'pw'], ['auth', REDACTED, REDACTED]],
    [['HELLO', '3', 'AUTH', 'u', 'pw', 'SETNAME', 'x'], ['HELLO', '3', 'AUTH', REDACTED, REDACTED, 'SETNAME', 'x']],
    [['MIGRATE', 'h', '1', 'k', '0', '10', 'AUTH', 'pw', 'KEYS', 'a'], ['MIGRATE', 'h', '1', 'k', '0', '10', 'AUTH', REDACTED, 'KEYS', 'a']],
    [['MIGRATE', 'h', '1', '', '0', '10', 'AUTH2', 'u', 'pw'], ['MIGRATE', 'h', '1', '', '0', '10', 'AUTH2', REDACTED, REDACTED]],
    [['CONFIG', 'SET', 'requirepass', 's3', 'maxmemory', '1gb', 'masterauth', 'm'], ['CONFIG', 'SET', 'requirepass', REDACTED, 'maxmemory', '1gb', 'masterauth', REDACTED]],
    [['ACL', 'SETUSER', 'bob', 'on', '>secret', '~*'], ['ACL', 'SETUSER', 'bob', 'on', `>${REDACTED}`, '~*']],
    [['SET', 'k', 'v'], ['SET', 'k', 'v']],
  ])('%j', (args, expected) => {
    expect(redactArgs(args)).toEqual(expected);
  });

  it('truncates long and many arguments', () => {
    const t = truncateArgs(['SET', 'k', 'x'.repeat(100)], 12, 10);
    expect(t[2]).toBe('xxxxxxxxxx…(100 chars)');
    expect(truncateArgs(Array.from({ length: 20 }, (_, i) => `a${i}`), 3)).toEqual(['a0', 'a1', 'a2', '…(+17 more arguments)']);
  });
});

const e = (node: string, id: number, durationUs = 10, command = 'SET'): SlowlogEntry =>
  ({ node, id, time: 1000 + id, durationUs, command, args: [command], clientAddr: null, clientName: null, self: false });

describe('slowlog state', () => {
  it('keeps entries newer than the remembered id per node, and all after a restart', () => {
    const state = { version: 1 as const, nodes: { a: 5, b: 100 } };
    const fresh = newSince([e('a', 4), e('a', 6), e('b', 3), e('c', 1)], state);
    expect(fresh.map((x) => `${x.node}${x.id}`)).toEqual(['a6', 'b3', 'c1']);
    expect(advanceState(state, [e('a', 6), e('c', 1)]).nodes).toEqual({ a: 6, b: 100, c: 1 });
  });

  it('groups by command with percentiles', () => {
    const g = groupByCommand([e('a', 1, 100, 'GET'), e('a', 2, 300, 'GET'), e('a', 3, 50, 'SET')]);
    expect(g).toEqual([
      { command: 'GET', count: 2, totalUs: 400, p50Us: 100, p99Us: 300, maxUs: 300 },
      { command: 'SET', count: 1, totalUs: 50, p50Us: 50, p99Us: 50, maxUs: 50 },
    ]);
  });

  it('--since takes an id, a unix time, an ISO time (no zone = UTC) or a duration ago', () => {
    expect(parseSince('42')).toEqual({ id: 42 });
    expect(parseSince('1795380000')).toEqual({ timeSec: 1795380000 });
    expect(parseSince('2026-11-22T10:00:00')).toEqual({ timeSec: Date.UTC(2026, 10, 22, 10) / 1000 });
    expect(parseSince('1h', 10_000_000)).toEqual({ timeSec: Math.floor((10_000_000 - 3_600_000) / 1000) });
    expect(() => parseSince('yesterday-ish')).toThrow(/--since/);
  });
});

describe('markScriptInnards: commands a script ran belong to the script\'s caller', async () => {
  const { markScriptInnards } = await import('../../src/lib/slowlog/slowlog.js');
  const entry = (id: number, command: string, clientName: string | null, clientAddr: string | null): SlowlogEntry =>
    ({ node: 'n', id, time: 1000, durationUs: 3000, command, args: [command], clientAddr, clientName, self: Boolean(clientName?.startsWith('redis-ops')) });
  it('marks the unnamed inner commands logged just before our EVALSHA, and no one else\'s', () => {
    const entries = [
      entry(6, 'EVALSHA', 'billing-api', '10.0.0.5:4000'),
      entry(5, 'HGETALL', null, '?:0'),
      entry(4, 'EVALSHA', 'redis-ops:backup', '127.0.0.1:5000'),
      entry(3, 'TYPE', null, '?:0'),
      entry(2, 'GETRANGE', null, ''),
      entry(1, 'KEYS', null, '10.0.0.9:4000'),
    ];
    expect(markScriptInnards(entries).map((x) => [x.id, x.self])).toEqual([[6, false], [5, false], [4, true], [3, true], [2, true], [1, false]]);
  });
});
