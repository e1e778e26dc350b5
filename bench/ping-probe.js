// A concurrent latency probe: PINGs the server back to back (1 ms apart)
// until SIGTERM, then prints the worst and the 99th percentile round trip.
import { Redis } from 'ioredis';

const port = Number(process.argv[2]);
const client = new Redis({ port, host: '127.0.0.1' });
const samples = [];
let running = true;
process.on('SIGTERM', () => { running = false; });
await client.ping();
process.send?.('ready');
while (running) {
  const t0 = process.hrtime.bigint();
  await client.ping();
  samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await new Promise((r) => setTimeout(r, 1));
}
samples.sort((a, b) => a - b);
const p = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
process.stdout.write(JSON.stringify({ count: samples.length, maxMs: samples.at(-1) ?? 0, p99Ms: p(0.99), p50Ms: p(0.5) }) + '\n');
client.disconnect();
process.exit(0);
