--[[
  Writes a story change in one atomic step: the metadata write (or an update's flags), the metadata `version`
  bump (HINCRBY), the story-change entry in the stream (`k=story`) and its announcement on the story's shard
  channel, exactly like an update's (see append-update.lua), so every reader gets the change in stream order.
  The entry carries the story's whole metadata after the change, so a reader applies the newest one alone.
  The meta hash's `count` is not touched: it counts updates only.

  Input:
    KEYS[1] the story's stream
    KEYS[2] the story's meta hash
    KEYS[3] the story's shard channel (same hash tag, so the same slot as the stream)
    ARGV[1] approximate MAXLEN of the stream
    ARGV[2] "meta" (a metadata write) or "flags" (an update's flags)
    meta:
      ARGV[3] JSON object of the metadata fields to set (string values)
      ARGV[4] JSON array of the metadata fields to remove
      ARGV[5] the `version` the write expects (an If-Match precondition), or "" for none
    flags:
      ARGV[3] id of the update whose flags change
      ARGV[4] key-event flag: "1" set, "0" clear, "" unchanged
      ARGV[5] pinned flag: "1" pin (unpinning any other), "0" unpin (when it is the pinned one), "" unchanged
  Published on KEYS[3]:
    "<previous id> <id> <entry JSON>"   previous id "0-0" when the stream was empty
  Output:
    { 1, id, json }  appended as entry `id` with stored JSON `json`
    { -1 }           flags: no such update in this stream
    { -2 }           flags: the id names a correction or a story change, which carry no flags
    { -3, version }  meta: `version` is not the expected one; nothing written
]]
local streamKey, metaKey, channel = KEYS[1], KEYS[2], KEYS[3]
local maxLen, mode = ARGV[1], ARGV[2]
local metaFields = { 'title', 'summary', 'status', 'coverageStartTime', 'coverageEndTime', 'pinned' }

local flagsJson = ''
if mode == 'meta' then
  local expected = ARGV[5]
  if expected ~= nil and expected ~= '' then
    local version = redis.call('HGET', metaKey, 'version') or '0'
    if version ~= expected then
      return { -3, version }
    end
  end
  local set, remove = cjson.decode(ARGV[3]), cjson.decode(ARGV[4])
  if #remove > 0 then
    redis.call('HDEL', metaKey, unpack(remove))
  end
  for field, value in pairs(set) do
    redis.call('HSET', metaKey, field, value)
  end
else
  local targetId, key, pinned = ARGV[3], ARGV[4], ARGV[5]
  local target = redis.call('XRANGE', streamKey, targetId, targetId)
  if #target == 0 then
    return { -1 }
  end
  local fields = target[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'k' and fields[i + 1] ~= 'statement' and fields[i + 1] ~= 'reaction' then
      return { -2 }
    end
  end
  local parts = { '"update":"' .. targetId .. '"' }
  if key ~= '' then
    table.insert(parts, '"key":' .. (key == '1' and 'true' or 'false'))
  end
  if pinned ~= '' then
    table.insert(parts, '"pinned":' .. (pinned == '1' and 'true' or 'false'))
    if pinned == '1' then
      redis.call('HSET', metaKey, 'pinned', targetId)
    elseif redis.call('HGET', metaKey, 'pinned') == targetId then
      redis.call('HDEL', metaKey, 'pinned')
    end
  end
  flagsJson = ',"flags":{' .. table.concat(parts, ',') .. '}'
end

local values = redis.call('HMGET', metaKey, unpack(metaFields))
local metaParts = {}
for i, field in ipairs(metaFields) do
  if values[i] then
    table.insert(metaParts, '"' .. field .. '":' .. cjson.encode(values[i]))
  end
end
local json = '{"kind":"story","meta":{' .. table.concat(metaParts, ',') .. '}' .. flagsJson .. '}'

local newest = redis.call('XREVRANGE', streamKey, '+', '-', 'COUNT', 1)
local previousId = '0-0'
if #newest > 0 then
  previousId = newest[1][1]
end

local id = redis.call('XADD', streamKey, 'MAXLEN', '~', maxLen, '*', 'k', 'story', 'd', json)
redis.call('HSET', metaKey, 'lastId', id)
redis.call('HINCRBY', metaKey, 'version', 1)
redis.call('SPUBLISH', channel, previousId .. ' ' .. id .. ' ' .. json)
return { 1, id, json }
