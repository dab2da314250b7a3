--[[
  Moves a (webhook, story) cursor after a delivery the endpoint acknowledged (2xx), only while the caller still
  holds the lease: a node whose lease expired mid-delivery must not move a cursor another node now owns.
  Clears the failure clock.

  Input:
    KEYS[1] the (webhook, story) state hash
    KEYS[2] the (webhook, story) lease
    ARGV[1] the lease token of the caller
    ARGV[2] the new cursor (the id delivered)
    ARGV[3] when a gap was announced: the oldest retained id it announced (stored as `gapTo`), else ""
  Output:
    1   moved
    0   the caller does not hold the lease; nothing changed
]]
local stateKey, leaseKey = KEYS[1], KEYS[2]
local token, cursor, gapTo = ARGV[1], ARGV[2], ARGV[3]

if redis.call('GET', leaseKey) ~= token then
  return 0
end
redis.call('HSET', stateKey, 'cursor', cursor)
redis.call('HDEL', stateKey, 'failingSince')
if gapTo ~= '' then
  redis.call('HSET', stateKey, 'gapTo', gapTo)
end
return 1
