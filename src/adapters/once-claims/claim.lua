-- Claim a key once: the first holder keeps it until it expires.
-- KEYS[1]  the claimed key
-- ARGV[1]  the holder asking
-- ARGV[2]  milliseconds to keep the key (≥ 1)
-- Reply:   the key's holder (ARGV[1] when it was free or already held by it)
-- One script, so SET NX and the GET of the winner see the same key: no expiry can fall between them.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return ARGV[1]
end
return redis.call('GET', KEYS[1])
