-- Releases a lease (single-flight) by compare-and-delete: only our token.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
