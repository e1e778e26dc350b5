#!lua flags=allow-cross-slot-keys
-- Deletes KEYS[1], or gives it a TTL, only if what the plan saw still holds,
-- checked in this order (the idle time before anything reads the value):
-- ARGV[1] action: "unlink" or "expire"; ARGV[2] ttl ms for "expire";
-- ARGV[3] 1: must still have no expiry; ARGV[4] ttl-above ms (-1: none);
-- ARGV[5] idle-over s (-1: none); ARGV[6] age check: "" none, "string" (the
-- whole value's SHA1 must be ARGV[8]), "hash" (field ARGV[7] must be ARGV[8]).
-- Returns 1 changed, or why not: -1 gone, -2 expiry changed, -3 no longer
-- idle, -4 value or age field changed.
local key = KEYS[1]
local t = redis.call('TYPE', key).ok
if t == 'none' then return -1 end
local pttl = redis.call('PTTL', key)
if ARGV[3] == '1' and pttl ~= -1 then return -2 end
local above = tonumber(ARGV[4])
if above >= 0 and (pttl == -1 or pttl <= above) then return -2 end
local idle = tonumber(ARGV[5])
if idle >= 0 and redis.call('OBJECT', 'IDLETIME', key) < idle then return -3 end
if ARGV[6] == 'string' then
  if t ~= 'string' or redis.sha1hex(redis.call('GET', key)) ~= ARGV[8] then return -4 end
elseif ARGV[6] == 'hash' then
  if t ~= 'hash' or redis.call('HGET', key, ARGV[7]) ~= ARGV[8] then return -4 end
end
if ARGV[1] == 'unlink' then
  redis.call('UNLINK', key)
else
  redis.call('PEXPIRE', key, ARGV[2])
end
return 1
