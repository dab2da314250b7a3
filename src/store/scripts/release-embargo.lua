--[[
  The embargo switch of one story, claimed atomically in the story's slot: makes the story public only if it is
  still embargoed and due, so however many nodes race for it, it happens once. Like every metadata write it
  bumps `version` (cached pages and views are rebuilt, ETags move).

  Input:
    KEYS[1] the story's meta hash
    ARGV[1] now, in ms
  Output:
     1  released: visibility is now "public", embargoUntil removed, version incremented
     0  nothing to do: no embargo (lifted, already released, or the story is gone)
    -1  not due yet (the embargo was moved later)
]]
local metaKey = KEYS[1]
local nowMs = tonumber(ARGV[1])

local dueMs = redis.call('HGET', metaKey, 'embargoMs')
if not dueMs then
  return 0
end
if tonumber(dueMs) > nowMs then
  return -1
end
redis.call('HSET', metaKey, 'visibility', 'public')
redis.call('HDEL', metaKey, 'embargoUntil', 'embargoMs')
redis.call('HINCRBY', metaKey, 'version', 1)
return 1
