-- Deletes a dead worker's heartbeat hash only if it still holds the beat the
-- plan judged stale (ARGV[2] in field ARGV[1]): a worker that beat again since
-- is alive and keeps its record.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('UNLINK', KEYS[1])
end
return 0
