--[[
  Give back the units held by reservations of one good: per uuid that holds one, stock + 1, forget its
  buyer, drop the reservation. Keyed on the reservation, so it is idempotent: a uuid without one (never
  reserved, already released or settled, or listed twice) changes nothing.

  Input:
    KEYS[1] stock    string counter
    KEYS[2] buyers   set of user ids
    KEYS[3] resv     hash uuid -> "userId:epochMs"
    ARGV    uuids (one or more)

  Output:
    the number of units released (0 .. #ARGV)

  The stock is only incremented when the key exists: INCR on a missing key would create a
  half-loaded good (stock 1, no buyers) that a later "load only if missing" would then skip.
]]
local released = 0
for i = 1, #ARGV do
  local held = redis.call('HGET', KEYS[3], ARGV[i])
  if held then
    redis.call('HDEL', KEYS[3], ARGV[i])
    redis.call('SREM', KEYS[2], string.match(held, '^[^:]*'))
    released = released + 1
  end
end
if released > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], released)
end
return released
