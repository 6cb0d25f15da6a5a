--[[
  Load a good from the database's view: pre-stock and the buyers holding a live order.

  Input:
    KEYS[1] stock    string counter
    KEYS[2] buyers   set of user ids
    KEYS[3] resv     hash uuid -> "userId:epochMs" (read, never written)
    KEYS[4] staging  set of more buyers, sent beforehand in chunks for a large load (may not exist);
                     always consumed (renamed or deleted)
    ARGV[1] mode   "missing": only if the good is not loaded; "always"; or "cas:<n>" / "cas:none":
                   only if no reservation is held and the stock key still holds <n> (or does not exist)
    ARGV[2] stock
    ARGV[3..] buyers (user ids), for a load small enough to send inline

  Output:
    1  written
    0  the condition of ARGV[1] did not hold: nothing written

  Stock and buyers appear in the same atomic step, and the stock key is what admits requests
  (no stock key -> NOT_LOADED), so no reserve can ever run against a half-written buyer set.
  Reservations are kept, and their buyers are added to the set: they still hold their units.
]]
local refused = false
if ARGV[1] == 'missing' then
  refused = redis.call('EXISTS', KEYS[1]) == 1
elseif string.sub(ARGV[1], 1, 4) == 'cas:' then
  local current = redis.call('GET', KEYS[1])
  local expected = string.sub(ARGV[1], 5)
  refused = redis.call('HLEN', KEYS[3]) > 0
    or (expected == 'none' and current ~= false)
    or (expected ~= 'none' and current ~= expected)
end
if refused then
  redis.call('DEL', KEYS[4])
  return 0
end

redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('RENAME', KEYS[4], KEYS[2])
end

-- unpack() is bounded by the Lua C stack (about 8000 values): add in slices.
local SLICE = 4000
local function addAll(members, from)
  for i = from, #members, SLICE do
    redis.call('SADD', KEYS[2], unpack(members, i, math.min(i + SLICE - 1, #members)))
  end
end

addAll(ARGV, 3)

local held = redis.call('HVALS', KEYS[3])
for i = 1, #held do
  held[i] = string.match(held[i], '^[^:]*')
end
addAll(held, 1)

redis.call('SET', KEYS[1], ARGV[2])
return 1
