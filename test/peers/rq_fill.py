"""Writes RQ data with RQ's own API (Debian's python3-rq), then prints RQ's
own counts as JSON. argv[1] is the redis URL."""
import json
import sys
from datetime import datetime, timedelta, timezone

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import (DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry,
                         ScheduledJobRegistry, StartedJobRegistry)

conn = Redis.from_url(sys.argv[1])
high = Queue('high', connection=conn)
low = Queue('low', connection=conn)

for i in range(4):
    high.enqueue('builtins.print', i)
for i in range(2):
    low.enqueue('builtins.print', 'low', i)

# Scheduled for later, and one deferred behind a dependency.
high.enqueue_in(timedelta(hours=1), 'builtins.print', 'later')
parent = low.enqueue('builtins.print', 'parent')
low.enqueue('builtins.print', 'child', depends_on=parent)

# Started (in flight), finished and failed, through the registries' own calls.
def take(queue):
    job_id = conn.lpop(queue.key)
    return Job.fetch(job_id.decode(), connection=conn)

with conn.pipeline() as p:
    StartedJobRegistry(queue=high).add(take(high), 600, pipeline=p)
    p.execute()
FinishedJobRegistry(queue=high).add(take(high), 600)
failed_job = take(low)
FailedJobRegistry(queue=low).add(failed_job, ttl=3600, exc_string='Traceback: boom')

# A live worker, and one whose heartbeat stopped (its hash expired).
live = Worker([high, low], connection=conn, name='live-worker')
live.register_birth()
live.heartbeat()
dead = Worker([high], connection=conn, name='dead-worker')
dead.register_birth()
conn.delete(dead.key)

# The oldest waiting job in "high" was enqueued 90 s ago.
oldest = Job.fetch(high.job_ids[0], connection=conn)
conn.hset(oldest.key, 'enqueued_at', (datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=90)).strftime('%Y-%m-%dT%H:%M:%S.%fZ'))

registered = sorted(m.decode() for m in conn.smembers('rq:workers'))
counts = {}
for q in Queue.all(connection=conn):
    counts[q.name] = {
        'waiting': q.count,
        'active': StartedJobRegistry(queue=q).count,
        'delayed': ScheduledJobRegistry(queue=q).count + DeferredJobRegistry(queue=q).count,
        'dead': FailedJobRegistry(queue=q).count,
        'completed': FinishedJobRegistry(queue=q).count,
    }
    first = q.job_ids[:1]
    if first:
        counts[q.name]['oldestEnqueuedAt'] = Job.fetch(first[0], connection=conn).enqueued_at.replace(tzinfo=timezone.utc).timestamp()
workers = sorted(w.name for w in Worker.all(connection=conn))
# Worker.all dropped the dead worker from rq:workers; a crash leaves it there.
conn.sadd('rq:workers', dead.key)
print(json.dumps({'queues': counts, 'registered': registered, 'workers': workers}))
