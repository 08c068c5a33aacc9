-- KEYS[1]: a user's connection set (zset: connection id -> expiry, unix seconds)
-- ARGV: now, connection id
-- Returns how many live connections the user still holds.
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
