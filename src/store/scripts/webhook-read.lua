--[[
  Reads what one webhook has still to receive of one story, for the node holding the (webhook, story) lease:
  the entries after the webhook's cursor, and whether entries after the cursor were trimmed before they could
  be delivered (a gap). All keys are the story's, so the call runs in the story's slot.

  A gap is reported when the cursor entry is gone (trimmed), the stream was trimmed at all (entries ever added
  > length) and its oldest retained entry is newer than the cursor, unless that gap was already announced
  (`gapTo` in the state). Trimming removes the oldest entries first, so while the cursor entry is retained
  nothing after it can be gone.

  Input:
    KEYS[1] the story's stream
    KEYS[2] the (webhook, story) state hash: `cursor`, `gapTo`, `failingSince`
    KEYS[3] the (webhook, story) lease
    ARGV[1] the lease token of the caller
    ARGV[2] the cursor to use when the state has none (the webhook's start: `<registration ms>-0`)
    ARGV[3] at most this many entries
  Output:
    { -1 }                                              the caller does not hold the lease
    { 1, cursor, gapNext, id1, data1, id2, data2, ... } gapNext is "" when there is no gap
]]
local streamKey, stateKey, leaseKey = KEYS[1], KEYS[2], KEYS[3]
local token, defaultCursor, count = ARGV[1], ARGV[2], tonumber(ARGV[3])

if redis.call('GET', leaseKey) ~= token then
  return { -1 }
end

local cursor = redis.call('HGET', stateKey, 'cursor') or defaultCursor
local gapNext = ''
if redis.call('EXISTS', streamKey) == 1 and #redis.call('XRANGE', streamKey, cursor, cursor) == 0 then
  local info = redis.call('XINFO', 'STREAM', streamKey)
  local fields = {}
  for i = 1, #info, 2 do
    fields[info[i]] = info[i + 1]
  end
  local first = fields['first-entry']
  if first and tonumber(fields['entries-added']) > tonumber(fields['length']) then
    local firstId = first[1]
    local cms, cseq = string.match(cursor, '^(%d+)-(%d+)$')
    local fms, fseq = string.match(firstId, '^(%d+)-(%d+)$')
    -- Compare as numbers of different lengths: a longer digit string is larger.
    local function newer(ams, aseq, bms, bseq)
      if #ams ~= #bms then return #ams > #bms end
      if ams ~= bms then return ams > bms end
      if #aseq ~= #bseq then return #aseq > #bseq end
      return aseq > bseq
    end
    local gapTo = redis.call('HGET', stateKey, 'gapTo')
    if newer(fms, fseq, cms, cseq) and gapTo ~= firstId then
      gapNext = firstId
    end
  end
end

local reply = { 1, cursor, gapNext }
local entries = redis.call('XRANGE', streamKey, '(' .. cursor, '+', 'COUNT', count)
for _, entry in ipairs(entries) do
  local data = '{}'
  local f = entry[2]
  for i = 1, #f, 2 do
    if f[i] == 'd' then data = f[i + 1] end
  end
  reply[#reply + 1] = entry[1]
  reply[#reply + 1] = data
end
return reply
