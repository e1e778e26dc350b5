"""Seed 000's TTS queue, written by the seed's own code (TTSQueueManager,
RetryManager, worker heartbeats, processing set, dead letters) with redis-py.
Prints the seed's own metrics (get_queue_metrics) as JSON. argv[1] is the redis URL."""
import json
import sys
from datetime import datetime, timedelta
from typing import Any, Dict, List

import redis


class TTSQueueManager:
    def __init__(self, redis_client):
        self.redis = redis_client
        self.queue_name = "tts_queue"

    def enqueue_request(self, request_data: Dict[str, Any], priority: int = 0):
        queue_item = {
            'request_id': request_data['id'],
            'user_id': request_data['user_id'],
            'text': request_data['text_content'],
            'voice_settings': {
                'voice_name': request_data['voice_name'],
                'speed': request_data['speed'],
                'pitch': request_data['pitch']
            },
            'priority': priority,
            'timestamp': datetime.utcnow().isoformat()
        }
        self.redis.lpush(self.queue_name, json.dumps(queue_item))
        if priority > 0:
            self.redis.zadd(f"{self.queue_name}_priority", {json.dumps(queue_item): priority})

    def dequeue_request(self) -> Dict[str, Any]:
        priority_item = self.redis.zpopmax(f"{self.queue_name}_priority")
        if priority_item:
            return json.loads(priority_item[0][0])
        item = self.redis.rpop(self.queue_name)
        return json.loads(item) if item else None


class RetryManager:
    def __init__(self, redis_client):
        self.redis = redis_client
        self.retry_queue = "tts_retry_queue"

    def add_to_retry(self, request_data: Dict[str, Any], retry_count: int = 0):
        retry_item = {
            **request_data,
            'retry_count': retry_count,
            'next_retry_at': self._calculate_next_retry(retry_count)
        }
        self.redis.lpush(self.retry_queue, json.dumps(retry_item))

    def get_retry_items(self) -> List[Dict[str, Any]]:
        current_time = datetime.utcnow().timestamp()
        items = self.redis.lrange(self.retry_queue, 0, -1)
        ready_items = []
        for item_str in items:
            item = json.loads(item_str)
            if item['next_retry_at'] <= current_time:
                ready_items.append(item)
        return ready_items

    def _calculate_next_retry(self, retry_count: int) -> float:
        delay = min(30 * (2 ** retry_count), 3600)
        return datetime.utcnow().timestamp() + delay


def get_queue_metrics(redis_client):
    return {
        'queue_length': redis_client.llen('tts_queue'),
        'priority_queue_length': redis_client.zcard('tts_queue_priority'),
        'retry_queue_length': redis_client.llen('tts_retry_queue'),
        'processing_requests': redis_client.scard('processing_requests'),
        'failed_requests': redis_client.llen('tts_dead_letter_queue'),
    }


def request(i):
    return {'id': f'req-{i}', 'user_id': f'user-{i % 3}', 'text_content': f'hello {i}',
            'voice_name': 'vi-VN-1', 'speed': 1.0, 'pitch': 0}


r = redis.Redis.from_url(sys.argv[1])
queue = TTSQueueManager(r)
retries = RetryManager(r)
for i in range(6):
    queue.enqueue_request(request(i), priority=2 if i == 5 else 0)
# Two workers took a job each; worker-1 keeps beating, worker-2 died 10 minutes ago.
for wid, req, ago in (('worker-1', 'req-0', 0), ('worker-2', 'req-1', 600)):
    job = queue.dequeue_request()
    r.sadd('processing_requests', job['request_id'])
    r.hset(f'worker_status:{wid}', mapping={
        'last_seen': (datetime.utcnow() - timedelta(seconds=ago)).isoformat(),
        'current_job': job['request_id'], 'queue_length': r.llen('tts_queue')})
# Failed requests: retry counts 0, 1 and 5 (due in 30 s, 60 s; and one already due).
for n, i in enumerate((10, 11, 12)):
    retries.add_to_retry({**request(i), 'request_id': f'req-{i}'}, retry_count=[0, 1, 5][n])
due = {**request(13), 'request_id': 'req-13', 'retry_count': 2,
       'next_retry_at': datetime.utcnow().timestamp() - 5.25}
r.lpush('tts_retry_queue', json.dumps(due))
r.lpush('tts_retry_queue', 'not json {')
r.lpush('tts_dead_letter_queue', json.dumps({**request(20), 'request_id': 'req-20', 'retry_count': 6, 'error': 'tts engine crashed'}))
print(json.dumps({'metrics': get_queue_metrics(r)}))
