-- Checks a verification code.  A right code is used up; a wrong one
-- counts, and the last wrong one locks the code until it expires.  An
-- unknown and an expired code are alike: gone.
--
-- KEYS[1] dk:otp:<id>
-- ARGV[1] the hash of the code given   ARGV[2] wrong tries that lock
--
-- Answers "ok <phone>", "wrong <tries left>", "locked" or "expired".

local otp = redis.call('HMGET', KEYS[1], 'h', 'p', 'n')
local tries = tonumber(ARGV[2])

if not otp[1] then
    return 'expired'
end

if tonumber(otp[3]) >= tries then
    return 'locked'
end

if otp[1] == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 'ok ' .. otp[2]
end

local wrong = redis.call('HINCRBY', KEYS[1], 'n', 1)

if wrong >= tries then
    return 'locked'
end

return 'wrong ' .. (tries - wrong)
