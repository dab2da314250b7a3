--[[
  Included (-- @include) by the scripts that write a story change: metadata writes, flag changes, the embargo
  switch. A story-change entry carries the story's whole reader-facing metadata after the change, as JSON whose
  first field is "kind":"story" (the live path tells it from an update by that prefix), and is announced on the
  story's shard channel exactly like an update (see append-update.lua).
]]

-- The story's reader-facing metadata, as the JSON object a story-change entry carries.
local function storyMetaJson(metaKey)
  local fields = { 'title', 'summary', 'status', 'coverageStartTime', 'coverageEndTime', 'pinned', 'visibility' }
  local values = redis.call('HMGET', metaKey, unpack(fields))
  local parts = {}
  for i, field in ipairs(fields) do
    if values[i] then
      parts[#parts + 1] = '"' .. field .. '":' .. cjson.encode(values[i])
    end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- Appends the story-change entry `json` to the stream, keeps the meta hash's lastId, and announces it as
-- "<previous id> <id> <json>". Returns the entry's id.
local function appendStoryEntry(streamKey, metaKey, channel, maxLen, json)
  local previousId = redis.call('HGET', metaKey, 'lastId') or '0-0'
  local id = redis.call('XADD', streamKey, 'MAXLEN', '~', maxLen, '*', 'k', 'story', 'd', json)
  redis.call('HSET', metaKey, 'lastId', id)
  redis.call('SPUBLISH', channel, previousId .. ' ' .. id .. ' ' .. json)
  return id
end
