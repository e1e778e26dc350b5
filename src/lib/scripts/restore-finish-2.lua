#!lua flags=allow-cross-slot-keys
-- Puts a big key, built under a temporary name in the same slot, in place in
-- one atomic step. KEYS[1]: the temporary key, KEYS[2]: the key.
-- ARGV[1]: mode (0: keep an existing key, 1: replace it); ARGV[2]: expire-at
-- ms (-1: none). Returns 0 (skipped: exists), 1 (created), 2 (replaced),
-- -1 (the temporary key is gone).
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local exists = redis.call('EXISTS', KEYS[2]) == 1
if exists and ARGV[1] == '0' then
  redis.call('UNLINK', KEYS[1])
  return 0
end
if exists then redis.call('UNLINK', KEYS[2]) end
redis.call('RENAME', KEYS[1], KEYS[2])
local exp = tonumber(ARGV[2])
if exp >= 0 then redis.call('PEXPIREAT', KEYS[2], exp) else redis.call('PERSIST', KEYS[2]) end
if exists then return 2 end
return 1
