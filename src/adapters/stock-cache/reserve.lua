--[[
  Reserve one unit of a good for a buyer under a request id (the hot path: one call per request).

  Input:
    KEYS[1] stock    string counter: the good's pre-stock
    KEYS[2] buyers   set of user ids holding a unit (reserved or ordered)
    KEYS[3] resv     hash uuid -> "userId:epochMs" of reservations not yet settled
    ARGV[1] userId
    ARGV[2] uuid
    ARGV[3] now (epoch ms)

  Output (one integer, so the reply stays tiny):
    >= 0  RESERVED, the value is the stock left
    -1    ALREADY_RESERVED  (this uuid already holds a unit for this buyer; its time becomes ARGV[3],
                             since the repeat publishes it again and its grace period starts over)
    -2    UUID_TAKEN        (this uuid holds a unit for another buyer)
    -3    NOT_LOADED        (no stock key: never loaded, or flushed)
    -4    DUPLICATE         (the buyer already holds a unit of this good)
    -5    SOLD_OUT

  The order of the checks is the contract: a repeated uuid is recognised even once the good is
  sold out or flushed, and a known buyer hears DUPLICATE rather than SOLD_OUT.
  While stock remains, SADD doubles as the buyer check (0 = already a member), so the accepting
  path costs five redis.call, not six; every reply is the same as checking SISMEMBER first.
]]
local held = redis.call('HGET', KEYS[3], ARGV[2])
if held then
  if string.match(held, '^[^:]*') == ARGV[1] then
    if tonumber(string.match(held, ':(%d+)$')) < tonumber(ARGV[3]) then
      redis.call('HSET', KEYS[3], ARGV[2], ARGV[1] .. ':' .. ARGV[3])
    end
    return -1
  end
  return -2
end

local stock = redis.call('GET', KEYS[1])
if not stock then
  return -3
end
if tonumber(stock) <= 0 then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
    return -4
  end
  return -5
end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return -4
end

local left = redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1] .. ':' .. ARGV[3])
return left
