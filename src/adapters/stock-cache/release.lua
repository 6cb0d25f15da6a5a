--[[
  Give back the unit held by one reservation: stock + 1, forget its buyer, drop the reservation.
  Keyed on the reservation, so it is idempotent: a uuid without one changes nothing.

  Input:
    KEYS[1] stock    string counter
    KEYS[2] buyers   set of user ids
    KEYS[3] resv     hash uuid -> "userId:epochMs"
    ARGV[1] uuid

  Output:
    1  released
    0  no reservation under this uuid (nothing changed)

  The stock is only incremented when the key exists: INCR on a missing key would create a
  half-loaded good (stock 1, no buyers) that a later "load only if missing" would then skip.
]]
local held = redis.call('HGET', KEYS[3], ARGV[1])
if not held then
  return 0
end
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
end
redis.call('SREM', KEYS[2], string.match(held, '^[^:]*'))
return 1
