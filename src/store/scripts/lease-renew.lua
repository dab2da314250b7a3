--[[
  Extends a lease held by the caller, or releases it (PX "0").

  Input:
    KEYS[1] the lease
    ARGV[1] the lease token of the caller
    ARGV[2] new time to live in ms, or "0" to release
  Output:
    1   extended (or released)
    0   the caller does not hold it
]]
local leaseKey = KEYS[1]
local token, ttlMs = ARGV[1], ARGV[2]

if redis.call('GET', leaseKey) ~= token then
  return 0
end
if ttlMs == '0' then
  redis.call('DEL', leaseKey)
else
  redis.call('PEXPIRE', leaseKey, ttlMs)
end
return 1
