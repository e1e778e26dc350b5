#!lua flags=no-writes,allow-cross-slot-keys
-- Per-key reads for one batch of keys a SCAN page returned. No KEYS: the
-- batch spans many slots, and the keys come from SCAN on this very node.
-- Kept short (a batch of ~100 keys, well under a millisecond) so the server
-- stays responsive; the client keeps two batches in flight.
-- Reads never touch a key's idle time: TYPE, PTTL, MEMORY USAGE and
-- OBJECT IDLETIME do not, and lengths (which do) are only read on request.
-- ARGV[1]: fields bitmask (1 type, 2 pttl, 4 memory, 8 idle, 16 length);
-- ARGV[2..]: keys. Returns, per key, the requested fields in that order.
-- Types come back as small integers (0 none, 1 string, 2 list, 3 set,
-- 4 zset, 5 hash, 6 stream), other (module) types by name; -1 stands for
-- "not applicable" (memory, idle or length of a key that is gone).
local type_code = {none = 0, string = 1, list = 2, set = 3, zset = 4, hash = 5, stream = 6}
local length_cmd = {string = 'STRLEN', list = 'LLEN', set = 'SCARD', zset = 'ZCARD', hash = 'HLEN', stream = 'XLEN'}
local fields = tonumber(ARGV[1])
local want_type = fields % 2 >= 1
local want_ttl = fields % 4 >= 2
local want_mem = fields % 8 >= 4
local want_idle = fields % 16 >= 8
local want_len = fields % 32 >= 16
local out = {}
for i = 2, #ARGV do
  local key = ARGV[i]
  local t = redis.call('TYPE', key).ok
  if want_type then table.insert(out, type_code[t] or t) end
  if want_ttl then table.insert(out, redis.call('PTTL', key)) end
  if want_mem then
    local m = false
    if t ~= 'none' then m = redis.call('MEMORY', 'USAGE', key) end
    table.insert(out, m or -1)
  end
  if want_idle then
    local idle = -1
    if t ~= 'none' then idle = redis.call('OBJECT', 'IDLETIME', key) end
    table.insert(out, idle)
  end
  if want_len then
    local l = -1
    local cmd = length_cmd[t]
    if cmd then l = redis.call(cmd, key) end
    table.insert(out, l)
  end
end
return out
