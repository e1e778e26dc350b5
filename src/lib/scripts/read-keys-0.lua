#!lua flags=no-writes,allow-cross-slot-keys
-- Reads type, absolute expiry and value of a batch of keys in one atomic step,
-- so each record is consistent. No KEYS: the keys come from SCAN on this node.
-- Stops early once `budget` elements have been read, or once it has run for
-- `time_budget` microseconds (the reply says how many keys it handled), so
-- one call stays short: below the server's slowlog-log-slower-than, whose
-- entries an SRE reads for the application's slow commands. Keys with more than `big`
-- elements (or string bytes) are not read here: the reply marks them "big"
-- with their length, and the client pages them.
-- ARGV: big, budget, legacy (1: no PEXPIRETIME, use TIME + PTTL), time_budget (µs), keys…
-- Reply: one MessagePack array (one string to parse instead of thousands of
-- replies): {handled, now_ms, then per key: kind (0 value, 1 big, 2 gone),
-- type (1 string, 2 list, 3 set, 4 zset, 5 hash, 6 stream, or a module
-- type's name), expire_at_ms (-1 none), payload}.
-- Written for speed (it runs per key): redis.call cached in a local, the
-- reply filled by index, GETRANGE's bounds passed as strings (no conversion
-- of a number per call).
local call = redis.call
local big = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local legacy = ARGV[3] == '1'
local time_budget = tonumber(ARGV[4])
local t = call('TIME')
local start_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(start_us / 1000)
local length_cmd = {list = 'LLEN', set = 'SCARD', zset = 'ZCARD', hash = 'HLEN', stream = 'XLEN'}
local type_code = {string = 1, list = 2, set = 3, zset = 4, hash = 5, stream = 6}
local big_bytes = big * 64
local big_str = tostring(big_bytes)
local out = {0, now_ms}
local n = 2
local spent = 0
local handled = 0
-- The clock is read every few keys, and after any read of many elements.
local checked_at = 0
for i = 5, #ARGV do
  if handled > 0 then
    if spent >= budget then break end
    if handled % 8 == 0 or spent - checked_at > 256 then
      checked_at = spent
      local c = call('TIME')
      if tonumber(c[1]) * 1000000 + tonumber(c[2]) - start_us >= time_budget then break end
    end
  end
  local key = ARGV[i]
  local ty = call('TYPE', key).ok
  handled = handled + 1
  if ty == 'none' then
    out[n + 1] = 2; out[n + 2] = 'none'; out[n + 3] = -1; out[n + 4] = 0
  else
    local exp
    if legacy then
      local pttl = call('PTTL', key)
      if pttl >= 0 then exp = now_ms + pttl else exp = -1 end
    else
      exp = call('PEXPIRETIME', key)
    end
    if ty == 'string' then
      -- One bounded read instead of STRLEN + GET: a string that fills it is big.
      local v = call('GETRANGE', key, '0', big_str)
      if #v > big_bytes then
        out[n + 1] = 1; out[n + 2] = 1; out[n + 3] = exp; out[n + 4] = call('STRLEN', key)
      else
        out[n + 1] = 0; out[n + 2] = 1; out[n + 3] = exp; out[n + 4] = v
      end
      spent = spent + 1 + #v / 64
    else
      local code = type_code[ty] or ty
      local cmd = length_cmd[ty]
      local len = 0
      if cmd then len = call(cmd, key) end
      if cmd == nil or ty == 'stream' or len > big then
        out[n + 1] = 1; out[n + 2] = code; out[n + 3] = exp; out[n + 4] = len
        spent = spent + 1
      else
        local v
        if ty == 'list' then v = call('LRANGE', key, 0, -1)
        elseif ty == 'set' then v = call('SMEMBERS', key)
        elseif ty == 'zset' then v = call('ZRANGE', key, 0, -1, 'WITHSCORES')
        else v = call('HGETALL', key) end
        out[n + 1] = 0; out[n + 2] = code; out[n + 3] = exp; out[n + 4] = v
        spent = spent + 1 + len
      end
    end
  end
  n = n + 4
end
out[1] = handled
return cmsgpack.pack(out)
