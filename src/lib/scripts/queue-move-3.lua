-- Moves jobs one by one, each only if it is still in the source: the target
-- gets an item only when this call removed it (LREM/ZREM returned 1), so a
-- crash or a concurrent run can neither lose nor duplicate a job.
-- KEYS: source, target (the source again when there is none), a SET that
-- must list the target's queue (Sidekiq's `queues`; the source again when none).
-- ARGV: source kind (list|zset), target kind (lpush|rpush|zadd|none),
-- ZADD score, SET member ("" for none), then pairs of (job as stored, job to write).
local src, dst, reg = KEYS[1], KEYS[2], KEYS[3]
local srcKind, dstKind, score, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local out = {}
for i = 5, #ARGV, 2 do
  local removed
  if srcKind == 'list' then
    removed = redis.call('LREM', src, -1, ARGV[i])
  else
    removed = redis.call('ZREM', src, ARGV[i])
  end
  if removed == 1 then
    if dstKind == 'lpush' then
      redis.call('LPUSH', dst, ARGV[i + 1])
    elseif dstKind == 'rpush' then
      redis.call('RPUSH', dst, ARGV[i + 1])
    elseif dstKind == 'zadd' then
      redis.call('ZADD', dst, score, ARGV[i + 1])
    end
    if member ~= '' then redis.call('SADD', reg, member) end
  end
  out[#out + 1] = removed
end
return out
