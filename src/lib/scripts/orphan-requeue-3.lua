-- Puts a dead worker's in-flight jobs back at the front of their queue, each
-- only while nothing has changed: the worker's heartbeat still reads as the
-- plan saw it (ARGV[2]; "" = the record was absent), and the job is still in
-- the processing list (LREM removed it). A worker that came back keeps its jobs.
-- KEYS: processing list, queue list, heartbeat hash (the processing list
-- again with ARGV[1] = "" when no worker claimed the jobs).
-- ARGV: heartbeat field, heartbeat value seen, then the jobs as stored.
-- Reply: -1 when the heartbeat changed (nothing moved), else 1/0 per job.
local proc, queue, beat = KEYS[1], KEYS[2], KEYS[3]
local field, seen = ARGV[1], ARGV[2]
if field ~= '' then
  local now = redis.call('HGET', beat, field)
  if (seen == '' and now) or (seen ~= '' and now ~= seen) then return -1 end
end
local moved = {}
for i = 3, #ARGV do
  local removed = redis.call('LREM', proc, -1, ARGV[i])
  if removed == 1 then redis.call('RPUSH', queue, ARGV[i]) end
  moved[#moved + 1] = removed
end
return moved
