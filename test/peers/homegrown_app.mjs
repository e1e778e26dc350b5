// A home-grown app in the seed's style, for the concurrency test: producers
// LPUSH JSON jobs; consumers take them with LMOVE into their own processing
// list (the reliable-queue pattern), beat into worker_status:{id}, finish or
// fail them (failed jobs go to the retry list with retry_count and a due
// next_retry_at), and may crash mid-job. A consumer acknowledges only a job
// it still holds, so a job requeued from under it is not recorded twice.
import { Redis } from 'ioredis';

const [mode, url, ...rest] = process.argv.slice(2);
const redis = new Redis(url);
const iso = () => new Date().toISOString().replace('Z', '');

if (mode === 'produce') {
  const [from, count] = rest.map(Number);
  for (let i = from; i < from + count; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(i + 20, from + count); j++) batch.push(JSON.stringify({ request_id: `job-${j}`, text: 'hello', timestamp: iso() }));
    await redis.lpush('tts_queue', ...batch);
    await new Promise((r) => setTimeout(r, 2));
  }
  process.exit(0);
}

if (mode === 'consume') {
  const [id, crashAfterText] = rest;
  const crashAfter = Number(crashAfterText);
  const processing = `tts_queue:processing:${id}`;
  redis.defineCommand('ack', {
    numberOfKeys: 2,
    lua: "if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[2]) return 1 end return 0",
  });
  redis.defineCommand('fail', {
    numberOfKeys: 2,
    lua: "if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then redis.call('LPUSH', KEYS[2], ARGV[2]) return 1 end return 0",
  });
  let handled = 0;
  let stopping = false;
  process.on('SIGTERM', () => { stopping = true; });
  while (!stopping) {
    await redis.hset(`worker_status:${id}`, { last_seen: iso(), current_job: '' });
    const item = await redis.blmove('tts_queue', processing, 'RIGHT', 'LEFT', 0.05);
    if (!item) continue;
    const job = JSON.parse(item);
    await redis.hset(`worker_status:${id}`, { last_seen: iso(), current_job: job.request_id });
    if (handled++ === crashAfter) process.exit(0); // dies holding the job; its heartbeat stops
    const n = Number(job.request_id.slice(4));
    const retries = job.retry_count ?? 0;
    if ((n + retries) % 3 === 0 && retries < 2) {
      const again = JSON.stringify({ ...job, retry_count: retries + 1, next_retry_at: Date.now() / 1000 - 0.5 });
      await redis.fail(processing, 'tts_retry_queue', item, again);
    } else {
      await redis.ack(processing, 'done', item, job.request_id);
    }
  }
  process.exit(0);
}
