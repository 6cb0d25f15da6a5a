--[[
  The notes of one request id, if the notes of its shard are known complete.

  Input:
    KEYS[1]   complete  the shard's mark, set once its notes were refilled from the database
    KEYS[2..] buckets   the shard's time buckets that may hold notes still kept (see note.lua)
    ARGV[1]   uuid

  Output: nil when the shard is not marked complete (the cache lost its notes: ask the database);
  otherwise one string per bucket that noted the uuid ("seckillGoodId:userId[;…]"), none if never noted.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local found = {}
for i = 2, #KEYS do
  local notes = redis.call('HGET', KEYS[i], ARGV[1])
  if notes then
    found[#found + 1] = notes
  end
end
return found
