// The build: one ESM bundle for fast start-up (ioredis alone is ~90 ms of
// module loading when unbundled), split so that lazy imports stay lazy, with
// the Lua scripts beside the chunks that read them. Type checking is tsc's job.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/main.ts', server: 'src/lib/sandbox/server.ts', docs: 'src/docs.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  // Bundled CommonJS (ioredis) calls require() for Node's own modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
  // Less to parse at every start-up (~10 ms of ~125 ms measured); names are
  // kept, so stack traces (--debug) still name the functions.
  minifyWhitespace: true,
  minifySyntax: true,
});
for (const f of readdirSync('src/lib/scripts')) {
  if (f.endsWith('.lua')) cpSync(`src/lib/scripts/${f}`, `dist/${f}`);
}
