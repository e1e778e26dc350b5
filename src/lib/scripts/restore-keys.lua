#!lua flags=allow-cross-slot-keys
-- Restores a batch of small keys, each in one atomic step: a key is either
-- left alone or fully written with its expiry, never visible half-written.
-- KEYS: the keys (all in one slot on a cluster). ARGV[1]: mode (0: skip a
-- key that exists, 1: replace it). ARGV[2]: a MessagePack array (one
-- argument is far cheaper for the client than thousands) holding, per key:
-- type (s l S z h), expire-at ms (-1: none), n, and n values (hash: field
-- value …, zset: score member …).
-- Returns per key 0 (skipped: exists), 1 (created), 2 (replaced).
local data = cmsgpack.unpack(ARGV[2])
local function push(cmd, key, from, n)
  local i = 0
  while i < n do
    local k = math.min(1000, n - i)
    redis.call(cmd, key, unpack(data, from + i, from + i + k - 1))
    i = i + k
  end
end
local mode = ARGV[1]
local a = 1
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local ty = data[a]
  local exp = tonumber(data[a + 1])
  local n = tonumber(data[a + 2])
  a = a + 3
  local exists = redis.call('EXISTS', key) == 1
  if exists and mode == '0' then
    out[i] = 0
  else
    if exists then redis.call('UNLINK', key) end
    if ty == 's' then redis.call('SET', key, data[a])
    elseif ty == 'l' then push('RPUSH', key, a, n)
    elseif ty == 'S' then push('SADD', key, a, n)
    elseif ty == 'h' then push('HSET', key, a, n)
    elseif ty == 'z' then push('ZADD', key, a, n) end
    if exp >= 0 then redis.call('PEXPIREAT', key, exp) end
    if exists then out[i] = 2 else out[i] = 1 end
  end
  a = a + n
end
return out
