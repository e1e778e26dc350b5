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

describe('help (issue 15, item 3)', async () => {
  const { buildProgram } = await import('../../src/program.js');
  const { commandsWithoutExamples } = await import('../../src/commands/examples.js');
  it('every command has examples for the terminal, cron or CI at the end of its help', () => {
    expect(commandsWithoutExamples(buildProgram())).toEqual([]);
  });
  it('the top-level help groups commands by job', () => {
    const program = buildProgram();
    let text = '';
    program.configureOutput({ writeOut: (s) => { text += s; } });
    program.outputHelp();
    const headings = text.split('\n').filter((l) => /^[A-Z][a-z ]+:$/.test(l));
    expect(headings).toEqual(['Options:', 'Inspect:', 'Monitor:', 'Backup:', 'Maintain:', 'Queues:', 'Try it:', 'Commands:']);
  });
});
