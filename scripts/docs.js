// npm run docs: writes docs/flags.md from the CLI's own definitions (after a build).
import { writeFileSync } from 'node:fs';
import { flagsDoc } from '../dist/docs.mjs';

writeFileSync(new URL('../docs/flags.md', import.meta.url), flagsDoc());
console.log('wrote docs/flags.md');
