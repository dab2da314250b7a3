--[[
  Enables or disables a registered webhook, if it still exists (a delete racing a disable must not recreate it).

  Input:
    KEYS[1] the webhook's hash
    ARGV[1] "1" to enable, "0" to disable
    ARGV[2] the time (ISO 8601)
    ARGV[3] why it is disabled ("" when enabling)
  Output:
    1   changed
    0   no such webhook
]]
local webhookKey = KEYS[1]
local enable, at, reason = ARGV[1] == '1', ARGV[2], ARGV[3]

if redis.call('EXISTS', webhookKey) == 0 then
  return 0
end
if enable then
  redis.call('HSET', webhookKey, 'enabled', '1', 'enabledAt', at)
  redis.call('HDEL', webhookKey, 'disabledAt', 'disabledReason')
else
  redis.call('HSET', webhookKey, 'enabled', '0', 'disabledAt', at, 'disabledReason', reason)
end
return 1
