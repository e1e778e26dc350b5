"""Writes Celery broker data with Celery and kombu (Debian's python3-celery):
tasks on two queues, one with a priority, and one message delivered to a
consumer that dies before acknowledging it (it stays in `unacked`). Prints
the broker's own message counts as JSON. argv[1] is the redis URL."""
import json
import os
import sys

from celery import Celery
from kombu import Queue

url = sys.argv[1]
app = Celery('peer', broker=url)
app.conf.broker_transport_options = {'queue_order_strategy': 'priority'}
app.conf.task_queues = [Queue('celery'), Queue('emails')]

for i in range(3):
    app.send_task('tasks.add', args=[i, i], queue='celery')
app.send_task('tasks.add', args=[9, 9], queue='celery', priority=9)
for i in range(2):
    app.send_task('tasks.mail', args=[f'to{i}'], queue='emails')
app.send_task('tasks.mail', args=['inflight'], queue='emails')

counts = {}
with app.connection_for_read() as conn:
    ch = conn.default_channel
    for q in ('celery', 'emails'):
        counts[q] = {'waiting': ch.queue_declare(queue=q, passive=True).message_count}

if os.fork() == 0:
    # A consumer takes one message and dies without acknowledging it.
    conn = app.connection_for_read()
    ch = conn.default_channel
    msg = ch.basic_get('emails', no_ack=False)
    os._exit(0 if msg is not None else 1)
_, status = os.wait()
counts['emails']['waiting'] -= 1
counts['emails']['active'] = 1
counts['celery']['active'] = 0
with app.connection_for_read() as conn:
    ch = conn.default_channel
    for q in ('celery', 'emails'):
        assert ch.queue_declare(queue=q, passive=True).message_count == counts[q]['waiting']
print(json.dumps({'queues': counts, 'consumerExit': status}))
