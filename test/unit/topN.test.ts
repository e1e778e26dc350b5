import { describe, expect, it } from 'vitest';
import { TopN } from '../../src/lib/keys/topN.js';

describe('TopN', () => {
  it('keeps the N largest, largest first', () => {
    const t = new TopN<number>(3);
    for (const v of [5, 1, 9, 3, 7, 2, 8, 6, 4, 10, 0]) t.offer(v, () => v);
    expect(t.result()).toEqual([10, 9, 8]);
  });
  it('returns fewer when fewer were offered', () => {
    const t = new TopN<string>(5);
    t.offer(1, () => 'a');
    expect(t.result()).toEqual(['a']);
  });
});
