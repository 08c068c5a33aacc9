-- KEYS[1]: a user's connection set (zset: connection id -> expiry, unix seconds)
-- ARGV: now, expiry, connection id, cap
-- Returns -1 when the user already holds `cap` live connections, else how many they held before.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[4]) then
  return -1
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIREAT', KEYS[1], math.ceil(tonumber(ARGV[2])))
return held
