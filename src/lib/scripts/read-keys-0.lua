#!lua flags=no-writes,allow-cross-slot-keys
-- Reads type, absolute expiry and value of a batch of keys in one atomic step,
-- so each record is consistent. No KEYS: the keys come from SCAN on this node.
-- Stops early once `budget` elements have been read (the reply says how many
-- keys it handled), so one call stays short. Keys with more than `big`
-- elements (or string bytes) are not read here: the reply marks them "big"
-- with their length, and the client pages them.
-- ARGV: big, budget, legacy (1: no PEXPIRETIME, use TIME + PTTL), keys…
-- Reply: {handled, now_ms, then per key: kind (0 value, 1 big, 2 gone), type
-- (1 string, 2 list, 3 set, 4 zset, 5 hash, 6 stream, or a module type's name),
-- expire_at_ms (-1 none), payload}
local big = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local legacy = ARGV[3] == '1'
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local length_cmd = {list = 'LLEN', set = 'SCARD', zset = 'ZCARD', hash = 'HLEN', stream = 'XLEN'}
local type_code = {string = 1, list = 2, set = 3, zset = 4, hash = 5, stream = 6}
local big_bytes = big * 64
local out = {0, now_ms}
local spent = 0
local handled = 0
for i = 4, #ARGV do
  if spent >= budget and handled > 0 then break end
  local key = ARGV[i]
  local ty = redis.call('TYPE', key).ok
  handled = handled + 1
  if ty == 'none' then
    table.insert(out, 2); table.insert(out, 'none'); table.insert(out, -1); table.insert(out, 0)
  else
    local exp
    if legacy then
      local pttl = redis.call('PTTL', key)
      if pttl >= 0 then exp = now_ms + pttl else exp = -1 end
    else
      exp = redis.call('PEXPIRETIME', key)
    end
    local code = type_code[ty] or ty
    if ty == 'string' then
      -- One bounded read instead of STRLEN + GET: a string that fills it is big.
      local v = redis.call('GETRANGE', key, 0, big_bytes)
      if #v > big_bytes then
        table.insert(out, 1); table.insert(out, code); table.insert(out, exp); table.insert(out, redis.call('STRLEN', key))
      else
        table.insert(out, 0); table.insert(out, code); table.insert(out, exp); table.insert(out, v)
      end
      spent = spent + 1 + math.floor(#v / 64)
    else
      local cmd = length_cmd[ty]
      local len = 0
      if cmd then len = redis.call(cmd, key) end
      if cmd == nil or ty == 'stream' or len > big then
        table.insert(out, 1); table.insert(out, code); table.insert(out, exp); table.insert(out, len)
        spent = spent + 1
      else
        local v
        if ty == 'list' then v = redis.call('LRANGE', key, 0, -1)
        elseif ty == 'set' then v = redis.call('SMEMBERS', key)
        elseif ty == 'zset' then v = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
        else v = redis.call('HGETALL', key) end
        table.insert(out, 0); table.insert(out, code); table.insert(out, exp); table.insert(out, v)
        spent = spent + 1 + len
      end
    end
  end
end
out[1] = handled
return out
