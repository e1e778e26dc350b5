-- Renews a lease (single-flight) only while we still hold it: compare the
-- token, then PEXPIRE. Returns 1 when renewed, 0 when the lease is someone else's.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
