--[[
  Where a story's stream starts and ends, and whether it was ever trimmed: what a resuming subscriber needs.
  A script rather than a bare XINFO so that Redis Cluster routes it by its key (client libraries cannot tell
  which argument of XINFO is the key).

  Input:
    KEYS[1] the story's stream
  Output:
    {}                                                    the stream does not exist
    { first id, last id, entries ever added, length }     ids are "" for an empty stream
]]
local streamKey = KEYS[1]

if redis.call('EXISTS', streamKey) == 0 then
  return {}
end

local info = redis.call('XINFO', 'STREAM', streamKey)
local fields = {}
for i = 1, #info, 2 do
  fields[info[i]] = info[i + 1]
end
local first, last = fields['first-entry'], fields['last-entry']
return {
  first and first[1] or '',
  last and last[1] or '',
  tostring(fields['entries-added']),
  tostring(fields['length']),
}
