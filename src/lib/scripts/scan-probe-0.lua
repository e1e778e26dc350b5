#!lua flags=no-writes,allow-cross-slot-keys
-- One SCAN page plus, per key, the fields the caller asked for. No KEYS:
-- the keys come from SCAN on this node, so they are local to it (cluster).
-- Reads never touch a key's idle time: TYPE, PTTL, MEMORY USAGE and
-- OBJECT IDLETIME do not, and lengths (which do) are only read on request.
-- ARGV: cursor, count, fields bitmask (1 type, 2 pttl, 4 memory, 8 idle,
--       16 length), match pattern or "", type filter or "".
-- Returns {next_cursor, key1, f1..., key2, f2..., ...}; a vanished key has
-- type "none" and pttl -2; memory/idle/length -1 where not applicable.
local args = {'SCAN', ARGV[1], 'COUNT', ARGV[2]}
if ARGV[4] ~= '' then table.insert(args, 'MATCH'); table.insert(args, ARGV[4]) end
if ARGV[5] ~= '' then table.insert(args, 'TYPE'); table.insert(args, ARGV[5]) end
local page = redis.call(unpack(args))
local fields = tonumber(ARGV[3])
local want_type = fields % 2 >= 1
local want_ttl = fields % 4 >= 2
local want_mem = fields % 8 >= 4
local want_idle = fields % 16 >= 8
local want_len = fields % 32 >= 16
local length_cmd = {string = 'STRLEN', list = 'LLEN', set = 'SCARD', zset = 'ZCARD', hash = 'HLEN', stream = 'XLEN'}
local out = {page[1]}
for _, key in ipairs(page[2]) do
  table.insert(out, key)
  local t = redis.call('TYPE', key).ok
  if want_type then table.insert(out, t) end
  if want_ttl then table.insert(out, redis.call('PTTL', key)) end
  if want_mem then
    local m = false
    if t ~= 'none' then m = redis.call('MEMORY', 'USAGE', key) end
    table.insert(out, m or -1)
  end
  if want_idle then
    local i = -1
    if t ~= 'none' then i = redis.call('OBJECT', 'IDLETIME', key) end
    table.insert(out, i)
  end
  if want_len then
    local l = -1
    local cmd = length_cmd[t]
    if cmd then l = redis.call(cmd, key) end
    table.insert(out, l)
  end
end
return out
