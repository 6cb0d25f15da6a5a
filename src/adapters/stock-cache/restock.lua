--[[
  Units come back to, or are added to, one good's pre-stock: closed orders give theirs back (and their
  buyers are forgotten, so they may buy again), and an admin's restock adds units no buyer held.
  Not keyed on a reservation: the caller runs it once per set of closed orders, or once per restock.

  Input:
    KEYS[1] stock    string counter
    KEYS[2] buyers   set of user ids
    ARGV[1] units added with no buyer (an admin's restock; 0 for closed orders)
    ARGV[2..] userIds (one per closed order)

  Output:
    the number of units added (ARGV[1] + one per user id), or
    0  the good is not loaded: nothing written (the next load from the database counts the units)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local extra = tonumber(ARGV[1])
local returned = #ARGV - 1
redis.call('INCRBY', KEYS[1], extra + returned)
if returned > 0 then
  redis.call('SREM', KEYS[2], unpack(ARGV, 2))
end
return extra + returned
