import { describe, expect, it } from 'vitest';
import { parseMonitorLine } from '../../src/lib/hotkeys/monitor.js';
import { keysOf, parseHotkeysReply } from '../../src/lib/hotkeys/hotkeys.js';

describe('MONITOR lines', () => {
  it('reads every argument byte for byte, escapes and binary included', () => {
    const line = String.raw`1700000000.123456 [3 10.0.0.7:51000] "SET" "user:\xff\x00:a \"b\"\\c" "line\nbreak\ttab"`;
    const m = parseMonitorLine(line)!;
    expect(m).toMatchObject({ time: 1700000000.123456, db: 3, source: '10.0.0.7:51000' });
    expect(m.args.map((a) => a.toString('hex'))).toEqual([
      Buffer.from('SET').toString('hex'),
      Buffer.concat([Buffer.from('user:'), Buffer.from([0xff, 0x00]), Buffer.from(':a "b"\\c')]).toString('hex'),
      Buffer.from('line\nbreak\ttab').toString('hex'),
    ]);
    expect(parseMonitorLine(String.raw`1700000000.1 [0 lua] "get" "k"`)!.source).toBe('lua');
    expect(parseMonitorLine('not a monitor line')).toBeNull();
    expect(parseMonitorLine(String.raw`1.0 [0 a:1] "unterminated`)).toBeNull();
  });

  it('finds the keys of a command from its key positions, and after numkeys for scripts', () => {
    const positions = new Map([['get', { first: 1, last: 1, step: 1 }], ['mset', { first: 1, last: -1, step: 2 }], ['ping', { first: 0, last: 0, step: 0 }]]);
    const b = (...s: string[]) => s.map((x) => Buffer.from(x));
    expect(keysOf(b('GET', 'a'), positions).map(String)).toEqual(['a']);
    expect(keysOf(b('MSET', 'a', '1', 'b', '2'), positions).map(String)).toEqual(['a', 'b']);
    expect(keysOf(b('PING'), positions)).toEqual([]);
    expect(keysOf(b('EVALSHA', 'abc', '2', 'k1', 'k2', 'arg'), positions).map(String)).toEqual(['k1', 'k2']);
    expect(keysOf(b('UNKNOWNCMD', 'x'), positions)).toEqual([]);
  });
});

describe('HOTKEYS GET (Redis 8.6+)', () => {
  it('reads the documented reply: keys by CPU time, their share of all CPU time, and network bytes', () => {
    const reply = ['tracking-active', 1, 'sample-ratio', 1, 'selected-slots', [], 'all-commands-all-slots-us', 220, 'net-bytes-all-commands-all-slots', 200,
      'by-cpu-time-us', [Buffer.from('x'), 104, Buffer.from('y'), 98, Buffer.from('z'), 18], 'by-net-bytes', [Buffer.from('y'), 120, Buffer.from('x'), 60]];
    expect(parseHotkeysReply(reply, 'n:1')).toEqual([
      { key: 'x', node: 'n:1', ops: null, opsPerSec: null, share: 0.473, cpuUs: 104, netBytes: 60 },
      { key: 'y', node: 'n:1', ops: null, opsPerSec: null, share: 0.445, cpuUs: 98, netBytes: 120 },
      { key: 'z', node: 'n:1', ops: null, opsPerSec: null, share: 0.082, cpuUs: 18, netBytes: 0 },
    ]);
    expect(parseHotkeysReply(null, 'n:1')).toEqual([]);
  });
});
