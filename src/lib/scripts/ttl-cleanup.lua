#!lua flags=allow-cross-slot-keys
-- Deletes each key of KEYS, or gives it a TTL, only if what the plan saw
-- still holds; each key is checked and changed in one atomic step, in this
-- order (the idle time before anything reads the value). A batch of keys per
-- call (one slot on a cluster) keeps the client from waiting on a round trip
-- per key.
-- ARGV[1] action: "unlink" or "expire"; ARGV[2] 1: must still have no expiry;
-- ARGV[3] ttl-above ms (-1: none); ARGV[4] idle-over s (-1: none);
-- ARGV[5] age check: "" none, "string" (the whole value's SHA1 must be the
-- key's `seen`), "hash" (field ARGV[6] must equal `seen`);
-- then per key: ttl ms (for "expire"), seen.
-- Returns per key 1 changed, or why not: -1 gone, -2 expiry changed,
-- -3 no longer idle, -4 value or age field changed.
local out = {}
local above = tonumber(ARGV[3])
local idle = tonumber(ARGV[4])
for i, key in ipairs(KEYS) do
  local ttl_ms = ARGV[5 + i * 2]
  local seen = ARGV[6 + i * 2]
  local r = 1
  local t = redis.call('TYPE', key).ok
  local pttl = redis.call('PTTL', key)
  if t == 'none' then r = -1
  elseif ARGV[2] == '1' and pttl ~= -1 then r = -2
  elseif above >= 0 and (pttl == -1 or pttl <= above) then r = -2
  elseif idle >= 0 and redis.call('OBJECT', 'IDLETIME', key) < idle then r = -3
  elseif ARGV[5] == 'string' and (t ~= 'string' or redis.sha1hex(redis.call('GET', key)) ~= seen) then r = -4
  elseif ARGV[5] == 'hash' and (t ~= 'hash' or redis.call('HGET', key, ARGV[6]) ~= seen) then r = -4
  end
  if r == 1 then
    if ARGV[1] == 'unlink' then redis.call('UNLINK', key) else redis.call('PEXPIRE', key, ttl_ms) end
  end
  out[i] = r
end
return out
