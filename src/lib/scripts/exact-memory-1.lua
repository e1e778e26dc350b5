#!lua flags=no-writes
-- Exact memory of KEYS[1] (MEMORY USAGE SAMPLES 0 walks every element), but
-- only when it has at most ARGV[1] elements: beyond that the walk would hold
-- the server for milliseconds. Returns -1 when skipped or gone.
-- The element count is read with the O(1) length commands, which (before
-- Redis 7.2) refresh the idle time of these few keys only.
local t = redis.call('TYPE', KEYS[1]).ok
local length_cmd = {list = 'LLEN', set = 'SCARD', zset = 'ZCARD', hash = 'HLEN', stream = 'XLEN'}
local cmd = length_cmd[t]
if t == 'none' then return -1 end
if cmd and redis.call(cmd, KEYS[1]) > tonumber(ARGV[1]) then return -1 end
return redis.call('MEMORY', 'USAGE', KEYS[1], 'SAMPLES', 0) or -1
