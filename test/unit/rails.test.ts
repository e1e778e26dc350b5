import { describe, expect, it } from 'vitest';
import { Rails } from '../../src/lib/rails.js';
import { railsFrom } from '../../src/commands/railsFlags.js';
import { UsageError } from '../../src/errors.js';

const plan = { description: 'UNLINK 3 keys', sample: ['a'], target: 'h:1 db 0' };

describe('Rails', () => {
  it('refuses off a terminal without --yes', async () => {
    const r = new Rails(railsFrom('t', {}));
    const io = { interactive: false, info: () => {}, confirm: async () => true };
    await expect(r.confirm(plan, io)).rejects.toThrow(UsageError);
    await expect(r.confirm(plan, io)).rejects.toThrow(/--yes/);
  });

  it('asks on a terminal and stops on no', async () => {
    const asked: string[] = [];
    const r = new Rails(railsFrom('t', {}));
    const io = { interactive: true, info: (m: string) => asked.push(m), confirm: async () => false };
    await expect(r.confirm(plan, io)).rejects.toThrow(/cancelled/);
    expect(asked[0]).toBe('About to UNLINK 3 keys on h:1 db 0.');
  });

  it('admits no more than --limit', async () => {
    const r = new Rails(railsFrom('t', { limit: '5', yes: true }));
    expect(await r.admit(3)).toBe(3);
    await r.record([1, 2, 3].map((i) => ({ key: Buffer.from(String(i)), action: 'x' })));
    expect(await r.admit(10)).toBe(2);
    await r.record([4, 5].map((i) => ({ key: Buffer.from(String(i)), action: 'x' })));
    expect(await r.admit(1)).toBe(0);
    expect(r.stopReason).toBe('limit');
  });

  it('stops at --max-duration', async () => {
    const r = new Rails(railsFrom('t', { maxDuration: '1ms', yes: true }));
    await new Promise((res) => setTimeout(res, 5));
    expect(await r.admit(1)).toBe(0);
    expect(r.stopReason).toBe('max-duration');
  });

  it('rejects bad budget flags', () => {
    expect(() => railsFrom('t', { limit: 'many' })).toThrow(/--limit/);
    expect(() => railsFrom('t', { rate: '0' })).toThrow(/--rate/);
    expect(() => railsFrom('t', { maxDuration: 'later' })).toThrow(/--max-duration/);
  });
});
