import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flagsDoc } from '../../src/docs.js';

describe('docs/flags.md', () => {
  it('is what the CLI definitions say (run `npm run docs` after changing a flag)', () => {
    const file = readFileSync(new URL('../../docs/flags.md', import.meta.url), 'utf8');
    expect(file).toBe(flagsDoc());
  });

  it('lists every leaf command, and -n is the database wherever it appears', () => {
    const doc = flagsDoc();
    for (const cmd of ['keys scan', 'keys delete', 'health', 'backup verify', 'restore', 'queue peek', 'workers reap', 'slowlog reset', 'sandbox']) {
      expect(doc).toContain(`## redis-ops ${cmd} `);
    }
    expect(doc.match(/`-n, --[a-z-]+ <n>`/g)).toEqual(['`-n, --db <n>`']);
  });
});
