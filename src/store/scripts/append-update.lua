--[[
  Appends one update to a story's stream in one atomic step with its idempotency record and the
  existence check of the update it corrects or replies to, keeps the story's meta hash current, and
  publishes the new entry to the story's shard channel (SPUBLISH): the doorbell every node's fan-in
  listens to. The message names the entry before it, so a node can tell a missed message from the next one.
  The audit record of the write (who made it) is added to the story's audit stream in the same step, so no
  update is stored without its record; an idempotent repeat appends nothing and records nothing.

  Input:
    KEYS[1] the story's stream
    KEYS[2] the story's meta hash
    KEYS[3] the idempotency record (a key of the same story; unused when ARGV[3] is "0")
    KEYS[4] the story's shard channel (same hash tag, so the same slot as the stream)
    KEYS[5] the story's audit stream (never trimmed)
    ARGV[1] approximate MAXLEN of the stream
    ARGV[2] idempotency record TTL, seconds
    ARGV[3] "1" when an idempotency key was given, else "0"
    ARGV[4] id of the update this one corrects or replies to, or ""
    ARGV[5] "1" when that target must not itself be a correction, else "0"
    ARGV[6] kind of the new update
    ARGV[7] the update as JSON (without id, story and publishedAt)
    ARGV[8] the audit record as JSON without its closing brace (e.g. `{"publisher":"anna","action":"publish"`);
            the script closes it with `,"update":"<id>"}`
  Published on KEYS[4]:
    "<previous id> <id> <update JSON>"   previous id "0-0" when the stream was empty
  Output:
    { 1, id }          appended as entry `id`
    { 0, id, json }    the idempotency key was seen before: the first update's id and JSON; nothing appended
    { -1 }             the target does not exist in this stream
    { -2 }             the target is a correction
]]
local streamKey, metaKey, idempotencyKey, channel, auditKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local maxLen, idempotencyTtl, hasIdempotencyKey = ARGV[1], ARGV[2], ARGV[3] == '1'
local targetId, targetMustNotBeCorrection = ARGV[4], ARGV[5] == '1'
local kind, json = ARGV[6], ARGV[7]
local auditOpen = ARGV[8]

if hasIdempotencyKey then
  local seen = redis.call('GET', idempotencyKey)
  if seen then
    local space = string.find(seen, ' ', 1, true)
    return { 0, string.sub(seen, 1, space - 1), string.sub(seen, space + 1) }
  end
end

if targetId ~= '' then
  local target = redis.call('XRANGE', streamKey, targetId, targetId)
  if #target == 0 then
    return { -1 }
  end
  if targetMustNotBeCorrection then
    local fields = target[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == 'k' and fields[i + 1] == 'correction' then
        return { -2 }
      end
    end
  end
end

-- The meta hash's lastId is written by this script in the same step as every XADD, so it names the stream's
-- newest entry, for less than XREVRANGE costs. Were it ever behind, nodes would see a gap and read the stream.
local previousId = redis.call('HGET', metaKey, 'lastId') or '0-0'

local id = redis.call('XADD', streamKey, 'MAXLEN', '~', maxLen, '*', 'k', kind, 'd', json)
redis.call('HSET', metaKey, 'lastId', id)
redis.call('HINCRBY', metaKey, 'count', 1)
if hasIdempotencyKey then
  redis.call('SET', idempotencyKey, id .. ' ' .. json, 'EX', idempotencyTtl)
end
redis.call('XADD', auditKey, '*', 'd', auditOpen .. ',"update":"' .. id .. '"}')
redis.call('SPUBLISH', channel, previousId .. ' ' .. id .. ' ' .. json)
return { 1, id }
