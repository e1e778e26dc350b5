// Lua scripts are read at run time from beside the compiled loader.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
mkdirSync('dist/lib/scripts', { recursive: true });
for (const f of readdirSync('src/lib/scripts')) {
  if (f.endsWith('.lua')) cpSync(`src/lib/scripts/${f}`, `dist/lib/scripts/${f}`);
}
