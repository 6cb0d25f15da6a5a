--[[
  Note accepted request ids in one shard's time bucket (the result poll's "was this uuid ever accepted?").

  Input:
    KEYS[1] bucket   hash uuid -> "seckillGoodId:userId[;seckillGoodId:userId…]" of one shard and time bucket
    ARGV[1] ttlMs    how long the bucket is kept from now (the notes' keeping plus one bucket)
    ARGV[2..] pairs  uuid, "seckillGoodId:userId"

  Output: the number of pairs that were not noted in this bucket yet.
  A uuid noted again with another good or buyer (a reused uuid) keeps both, ';'-separated.
]]
local added = 0
for i = 2, #ARGV, 2 do
  local uuid, member = ARGV[i], ARGV[i + 1]
  local had = redis.call('HGET', KEYS[1], uuid)
  if not had then
    redis.call('HSET', KEYS[1], uuid, member)
    added = added + 1
  elseif not string.find(';' .. had .. ';', ';' .. member .. ';', 1, true) then
    redis.call('HSET', KEYS[1], uuid, had .. ';' .. member)
    added = added + 1
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return added
