#!lua flags=allow-cross-slot-keys
-- Restores a batch of small keys, each in one atomic step: a key is either
-- left alone or fully written with its expiry, never visible half-written.
-- KEYS: the keys (all in one slot on a cluster). ARGV[1]: mode (0: skip a
-- key that exists, 1: replace it). ARGV[2]: 1 when the ttls are absolute
-- (SET … PXAT and RESTORE … ABSTTL, Redis 6.2+), 0 when relative. ARGV[3]:
-- a MessagePack array (one argument is far cheaper for the client than
-- many): each key's payload, then each key's kind and ttl: "s<ttl>" (the
-- payload is a string value) or "r<ttl>" (a RESTORE payload; empty: an
-- empty collection, nothing to write). ttl 0 means no expiry.
-- Returns per key 0 (skipped: exists), 1 (created), 2 (replaced); or an
-- error naming the key's position when the server refuses a payload.
local data = cmsgpack.unpack(ARGV[3])
local replace = ARGV[1] == '1'
local absolute = ARGV[2] == '1'
local n = #KEYS
local out = {}
for i = 1, n do
  local key = KEYS[i]
  local payload = data[i]
  local meta = data[n + i]
  local ttl = string.sub(meta, 2)
  if string.byte(meta) == 115 and not replace then
    -- A string: SET NX is the existence check and the write in one command.
    local r
    if ttl == '0' then r = redis.call('SET', key, payload, 'NX')
    elseif absolute then r = redis.call('SET', key, payload, 'PXAT', ttl, 'NX')
    else r = redis.call('SET', key, payload, 'PX', ttl, 'NX') end
    if r then out[i] = 1 else out[i] = 0 end
  else
    -- EXISTS first rather than a refused RESTORE: a BUSYKEY error would count in the server's error stats.
    local exists = redis.call('EXISTS', key) == 1
    if exists and not replace then
      out[i] = 0
    else
      if exists then redis.call('UNLINK', key) end
      if string.byte(meta) == 115 then
        if ttl == '0' then redis.call('SET', key, payload)
        elseif absolute then redis.call('SET', key, payload, 'PXAT', ttl)
        else redis.call('SET', key, payload, 'PX', ttl) end
      elseif #payload > 0 then
        local r
        if absolute then r = redis.pcall('RESTORE', key, ttl, payload, 'ABSTTL')
        else r = redis.pcall('RESTORE', key, ttl, payload) end
        if type(r) == 'table' and r.err then return redis.error_reply('key #' .. i .. ': ' .. r.err) end
      end
      if exists then out[i] = 2 else out[i] = 1 end
    end
  end
end
return out
