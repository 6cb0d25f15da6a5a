--[[
  Withdraw a reservation whose reserve call failed at the caller (a timeout: the command may still have
  run, or may run later, once a stalled Redis goes on). Sent on the same connection after that reserve, so
  Redis runs it after the reserve whatever the timing: if the reserve took a unit, this gives it back.

  Only the reservation exactly as that call would have written it ("userId:now") is given back: one made
  or moved by another call of the same request (its repeat, which may already be on the queue) is left.
  (If the failed call was itself a repeat, it moved the reservation and it is withdrawn: an order message
  sent before still decides in the database, and the reconciler resets the cache once nothing is in flight.)

  Input:
    KEYS[1] stock    string counter
    KEYS[2] buyers   set of user ids
    KEYS[3] resv     hash uuid -> "userId:epochMs"
    ARGV[1] uuid
    ARGV[2] userId
    ARGV[3] now (epoch ms) of the failed reserve

  Output: 1 when a unit was given back, else 0.
]]
local held = redis.call('HGET', KEYS[3], ARGV[1])
if held ~= ARGV[2] .. ':' .. ARGV[3] then
  return 0
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
end
return 1
