// Writes BullMQ data with BullMQ's own API (npm dev dependency), then prints
// BullMQ's own counts as JSON. argv[2] is the redis URL, argv[3] the prefix.
// With --cluster, argv[2] is one node of a cluster (BullMQ needs a hash-tag prefix there, e.g. {bull}).
import { Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';

const url = new URL(process.argv[2]);
const prefix = process.argv[3] ?? 'bull';
const connection = process.argv.includes('--cluster')
  ? new Cluster([{ host: url.hostname, port: Number(url.port) }], { redisOptions: { maxRetriesPerRequest: null } })
  : { host: url.hostname, port: Number(url.port), db: Number(url.pathname.slice(1) || 0) };

const emails = new Queue('emails', { connection, prefix });
const reports = new Queue('reports', { connection, prefix });
await emails.add('send', { to: 'a' }, { timestamp: Date.now() - 45_000 });
for (let i = 0; i < 4; i++) await emails.add('send', { to: `b${i}` });
await emails.add('later', { to: 'c' }, { delay: 3_600_000 });
await emails.add('vip', { to: 'd' }, { priority: 1 });
await emails.add('vip', { to: 'e' }, { priority: 5 });

// Manual processing through a Worker: one completes, one fails for good, one stays active.
const worker = new Worker('emails', null, { connection, prefix, name: 'mailer-1' });
const token = 'token-1';
const done = await worker.getNextJob(token);
await done.moveToCompleted('ok', token, false);
const bad = await worker.getNextJob(token);
await bad.moveToFailed(new Error('smtp down'), token, false);
await worker.getNextJob(token); // stays active, with its lock

await reports.add('daily', { day: 1 });
await reports.add('daily', { day: 2 });
await reports.pause();

const counts = {};
for (const q of [emails, reports]) {
  const c = await q.getJobCounts('wait', 'paused', 'prioritized', 'active', 'delayed', 'failed', 'completed');
  const waitingJobs = await q.getWaiting();
  const oldest = waitingJobs.reduce((m, j) => Math.min(m, j.timestamp), Infinity);
  counts[q.name] = { ...c, oldestTimestamp: Number.isFinite(oldest) ? oldest : null };
}
console.log(JSON.stringify({ queues: counts }));
// The worker stays connected (a visible worker) until the caller kills this process.
if (process.argv.includes('--stay')) {
  process.stdout.write('ready\n');
  await new Promise(() => {});
}
await worker.close(true);
await emails.close();
await reports.close();
if (connection instanceof Cluster) connection.disconnect();
