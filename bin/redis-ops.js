#!/usr/bin/env node
try {
  await import('../dist/cli.mjs');
} catch (e) {
  // A checkout before its first build: say what to do, not a module-loader stack.
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli.mjs')) {
    process.stderr.write('error: redis-ops is not built yet: run npm install (or npm run build) in its directory first\n');
    process.exit(2);
  }
  throw e;
}
