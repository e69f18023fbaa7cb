-- Sends a verification code, or says why not: the phone's codes in the
-- hour and in the day since its first, then the city's budget of the WIB
-- day.  Only a code that will be sent is counted.
--
-- KEYS[1] dk:otp:<id>   KEYS[2] dk:otp:h:<phone>   KEYS[3] dk:otp:d:<phone>
-- KEYS[4] dk:otp:budget:<date>
-- ARGV[1] the phone (E.164)   ARGV[2] the hash of the code
-- ARGV[3] the code's validity (s)   ARGV[4] codes an hour per phone
-- ARGV[5] codes a day per phone   ARGV[6] the city's daily budget
-- ARGV[7] the budget key's expiry (unix s)
--
-- Answers "ok", "limit <seconds until the phone may have one>", or
-- "budget" (the city's codes of the day are spent).

local sent = redis.call('MGET', KEYS[2], KEYS[3], KEYS[4])

local function wait(key)
    local ttl = redis.call('TTL', key)
    if ttl < 1 then
        return 1
    end
    return ttl
end

if tonumber(sent[1] or '0') >= tonumber(ARGV[4]) then
    return 'limit ' .. wait(KEYS[2])
end

if tonumber(sent[2] or '0') >= tonumber(ARGV[5]) then
    return 'limit ' .. wait(KEYS[3])
end

if tonumber(sent[3] or '0') >= tonumber(ARGV[6]) then
    return 'budget'
end

if redis.call('INCR', KEYS[2]) == 1 then
    redis.call('EXPIRE', KEYS[2], 3600)
end

if redis.call('INCR', KEYS[3]) == 1 then
    redis.call('EXPIRE', KEYS[3], 86400)
end

if redis.call('INCR', KEYS[4]) == 1 then
    redis.call('EXPIREAT', KEYS[4], ARGV[7])
end

redis.call('HSET', KEYS[1], 'h', ARGV[2], 'p', ARGV[1], 'n', 0)
redis.call('EXPIRE', KEYS[1], ARGV[3])

return 'ok'
