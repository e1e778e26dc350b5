import { loadWithPipe, mixedKeys } from './lib.js';
const n = Number(process.argv[3]);
await loadWithPipe(Number(process.argv[2]), (function* () { for (const c of mixedKeys(n)) if (c[0] !== 'XADD') yield c; })());
