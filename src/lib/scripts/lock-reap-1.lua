#!lua flags=allow-cross-slot-keys
-- Compare-and-delete of a stale lock, checked in this order: a string; its
-- expiry: none, or (ARGV[4] >= 0) longer than ARGV[4] ms, the rule by which
-- `locks list --max-ttl` calls it stale; idle for at least ARGV[2] seconds
-- (-1: not checked; only for locks without expiry), read before anything
-- touches the value; the exact value ARGV[1] seen by the plan ("" with
-- ARGV[3] = 0: the value was not read, so the idle check decides).
-- ARGV[5] = 1 (--force, one named lock): any expiry and idle time.
-- A lock released and re-acquired meanwhile has a new value and a new idle
-- time, and is never deleted.
-- Returns {1, value} when deleted; {0, reason}: gone, type, ttl, idle, value.
local key = KEYS[1]
local force = ARGV[5] == '1'
local t = redis.call('TYPE', key).ok
if t == 'none' then return {0, 'gone'} end
if t ~= 'string' then return {0, 'type'} end
local pttl = redis.call('PTTL', key)
local maxTtl = tonumber(ARGV[4])
if pttl ~= -1 then
  if not force and not (maxTtl >= 0 and pttl > maxTtl) then return {0, 'ttl'} end
else
  local idle = tonumber(ARGV[2])
  if not force and idle >= 0 and redis.call('OBJECT', 'IDLETIME', key) < idle then return {0, 'idle'} end
end
local value = redis.call('GET', key)
if ARGV[3] == '1' and value ~= ARGV[1] then return {0, 'value'} end
redis.call('UNLINK', key)
return {1, value}
