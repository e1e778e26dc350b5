#!lua flags=allow-cross-slot-keys
-- Compare-and-delete of a stale lock, checked in this order: a string; still
-- no expiry; idle for at least ARGV[2] seconds (-1: not checked), read before
-- anything touches the value; the exact value ARGV[1] seen by the plan
-- ("" with ARGV[3] = 0: the value was not read, so the idle check decides).
-- A lock released and re-acquired meanwhile has a new value and a new idle
-- time, and is never deleted.
-- Returns {1, value} when deleted; {0, reason}: gone, type, ttl, idle, value.
local key = KEYS[1]
local t = redis.call('TYPE', key).ok
if t == 'none' then return {0, 'gone'} end
if t ~= 'string' then return {0, 'type'} end
if redis.call('PTTL', key) ~= -1 then return {0, 'ttl'} end
local idle = tonumber(ARGV[2])
if idle >= 0 and redis.call('OBJECT', 'IDLETIME', key) < idle then return {0, 'idle'} end
local value = redis.call('GET', key)
if ARGV[3] == '1' and value ~= ARGV[1] then return {0, 'value'} end
redis.call('UNLINK', key)
return {1, value}
