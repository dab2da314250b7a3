--[[
  Writes a story's metadata in one atomic step with its audit record and its story-change entry: creates it
  (refused when the story exists), patches the fields named (refused when the metadata version moved since
  the caller read it), or replaces it. Every metadata write increments `version` here: the read cache and
  the ETag of `GET /v1/stories/:story` follow it. New updates (lastId, count) never move it. The change is
  also an entry in the story's stream (`k=story`, the whole metadata after the change), announced on the
  story's shard channel exactly like an update (see append-update.lua), so readers get it in stream order.

  Input:
    KEYS[1] the story's meta hash
    KEYS[2] the story's stream (its existence makes the story exist)
    KEYS[3] the story's audit stream (never trimmed)
    KEYS[4] the story's shard channel (same hash tag, so the same slot as the stream)
    ARGV[1] mode: "create" | "patch" | "replace"
    ARGV[2] the metadata version the caller's write is based on, or "" to write whatever it is
    ARGV[3] the audit record as JSON without its closing brace (e.g. `{"publisher":"anna","action":"edit"`);
            the script closes it with `,"fields":[<changed fields>],"version":<new version>}`
    ARGV[4] approximate MAXLEN of the stream
    ARGV[5] n: the number of fields to set
    ARGV[6 .. 5+2n] field, value pairs to set
    ARGV[6+2n ..] fields to remove
  Published on KEYS[4]:
    "<previous id> <id> <story-change JSON>"   previous id "0-0" when the stream was empty
  Output:
    { 1, version, id, json }   written; the new metadata version, and the story-change entry's id and JSON
    { -1, field, value, ... }  create: the story exists; its meta hash, flat (nothing written)
    { -2 }                 patch: no such story (nothing written)
    { -3, version }        patch: the version is not ARGV[2] any more; the current one (nothing written)
]]
-- @include "story-change-entry.lua"

local metaKey, streamKey, auditKey, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, expectedVersion, auditOpen, maxLen = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local setCount = tonumber(ARGV[5])

local exists = redis.call('EXISTS', metaKey) == 1 or redis.call('EXISTS', streamKey) == 1
if mode == 'create' and exists then
  local current = redis.call('HGETALL', metaKey)
  local reply = { -1 }
  for i = 1, #current do
    reply[i + 1] = current[i]
  end
  return reply
end
if mode == 'patch' and not exists then
  return { -2 }
end
local version = redis.call('HGET', metaKey, 'version') or '0'
if expectedVersion ~= '' and version ~= expectedVersion then
  return { -3, tonumber(version) }
end

local changed = {}
for i = 6, 5 + 2 * setCount, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', metaKey, field) ~= value then
    changed[#changed + 1] = '"' .. field .. '"'
    redis.call('HSET', metaKey, field, value)
  end
end
for i = 6 + 2 * setCount, #ARGV do
  if redis.call('HDEL', metaKey, ARGV[i]) == 1 then
    changed[#changed + 1] = '"' .. ARGV[i] .. '"'
  end
end
local newVersion = redis.call('HINCRBY', metaKey, 'version', 1)
redis.call('XADD', auditKey, '*', 'd', auditOpen .. ',"fields":[' .. table.concat(changed, ',') .. '],"version":' .. newVersion .. '}')

local json = '{"kind":"story","meta":' .. storyMetaJson(metaKey) .. '}'
local id = appendStoryEntry(streamKey, metaKey, channel, maxLen, json)
return { 1, newVersion, id, json }
