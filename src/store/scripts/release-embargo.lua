--[[
  The embargo switch of one story, claimed atomically in the story's slot: makes the story public only if it is
  still embargoed and due, so however many nodes race for it, it happens once. Like every metadata write it
  bumps `version` (cached pages and views are rebuilt, ETags move) and appends the story-change entry (see
  write-meta.lua), announced on the story's channel, so subscribers learn of the switch live, exactly once.

  Input:
    KEYS[1] the story's meta hash
    KEYS[2] the story's stream
    KEYS[3] the story's shard channel (same hash tag, so the same slot as the stream)
    ARGV[1] now, in ms
    ARGV[2] approximate MAXLEN of the stream
  Output:
     1  released: visibility is now "public", embargoUntil removed, version incremented
     0  nothing to do: no embargo (lifted, already released, or the story is gone)
    -1  not due yet (the embargo was moved later)
]]
-- @include "story-change-entry.lua"

local metaKey, streamKey, channel = KEYS[1], KEYS[2], KEYS[3]
local nowMs, maxLen = tonumber(ARGV[1]), ARGV[2]

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

appendStoryEntry(streamKey, metaKey, channel, maxLen, '{"kind":"story","meta":' .. storyMetaJson(metaKey) .. '}')
return 1
