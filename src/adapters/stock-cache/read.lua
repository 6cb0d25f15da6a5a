--[[
  One consistent snapshot of a good: pre-stock and the number of reservations in flight.

  Input:
    KEYS[1] stock    string counter
    KEYS[2] resv     hash uuid -> "userId:epochMs"

  Output:
    { stock or nil when not loaded, in-flight count }
]]
return { redis.call('GET', KEYS[1]), redis.call('HLEN', KEYS[2]) }
