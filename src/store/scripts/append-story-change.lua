--[[
  Sets or clears an update's flags (key event, pinned) in one atomic step: the meta hash's `pinned`, the
  metadata `version` bump (HINCRBY), the story-change entry in the stream (`k=story`) and its announcement on
  the story's shard channel, exactly like an update's (see append-update.lua), so every reader gets the change
  in stream order. (Metadata writes make the same kind of entry in write-meta.lua.)
  The entry carries the story's whole metadata after the change, so a reader applies the newest one alone.
  The meta hash's `count` is not touched: it counts updates only.

  Input:
    KEYS[1] the story's stream
    KEYS[2] the story's meta hash
    KEYS[3] the story's shard channel (same hash tag, so the same slot as the stream)
    KEYS[4] the story's audit stream (never trimmed)
    ARGV[1] approximate MAXLEN of the stream
    ARGV[2] id of the update whose flags change
    ARGV[3] key-event flag: "1" set, "0" clear, "" unchanged
    ARGV[4] pinned flag: "1" pin (unpinning any other), "0" unpin (when it is the pinned one), "" unchanged
    ARGV[5] the audit record as JSON without its closing brace; the script closes it with `,"flags":{…}}`
  Published on KEYS[3]:
    "<previous id> <id> <entry JSON>"   previous id "0-0" when the stream was empty
  Output:
    { 1, id, json }  appended as entry `id` with stored JSON `json`
    { -1 }           flags: no such update in this stream
    { -2 }           flags: the id names a correction or a story change, which carry no flags
]]
-- @include "story-change-entry.lua"

local streamKey, metaKey, channel, auditKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local maxLen = ARGV[1]

local targetId, key, pinned = ARGV[2], ARGV[3], ARGV[4]
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
local flagsJson = ',"flags":{' .. table.concat(parts, ',') .. '}'
local auditFlags = {}
for i = 2, #parts do
  auditFlags[#auditFlags + 1] = parts[i]
end
redis.call('XADD', auditKey, '*', 'd', ARGV[5] .. ',"flags":{' .. table.concat(auditFlags, ',') .. '}}')

redis.call('HINCRBY', metaKey, 'version', 1)
local json = '{"kind":"story","meta":' .. storyMetaJson(metaKey) .. flagsJson .. '}'
local id = appendStoryEntry(streamKey, metaKey, channel, maxLen, json)
return { 1, id, json }
