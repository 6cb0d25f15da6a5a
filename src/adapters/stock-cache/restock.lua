--[[
  Closed orders of one good give their units back: stock + one per listed buyer, and forget those buyers,
  so they may buy again. Not keyed on a reservation: the caller runs it once per set of closed orders.

  Input:
    KEYS[1] stock    string counter
    KEYS[2] buyers   set of user ids
    ARGV    userIds (one per closed order)

  Output:
    the number of units returned (#ARGV), or
    0  the good is not loaded: nothing written (the next load from the database counts the units)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('INCRBY', KEYS[1], #ARGV)
redis.call('SREM', KEYS[2], unpack(ARGV))
return #ARGV
