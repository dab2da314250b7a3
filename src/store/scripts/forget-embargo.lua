--[[
  Removes a story from the embargo due set, but only if its score is still the one that was handled: a publisher
  who set a new embargo meanwhile (ZADD with a new time) keeps it scheduled.

  Input:
    KEYS[1] the embargo due set
    ARGV[1] story id
    ARGV[2] the score (embargo time in ms) that was handled
  Output:
    1 removed, 0 left (rescheduled or already gone)
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
