--[[
  A closed order gives its unit back: stock + 1 and forget the buyer, so they may buy again.
  Not keyed on a reservation: the caller runs it once per closed order.

  Input:
    KEYS[1] stock    string counter
    KEYS[2] buyers   set of user ids
    ARGV[1] userId

  Output:
    1  restocked
    0  the good is not loaded: nothing written (the next load from the database counts the unit)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('INCR', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
