-- One booking decision, atomic: the whole of it runs or none of it.
--
-- KEYS[1] dk:epoch         present while Redis holds a complete state
-- KEYS[2] dk:bar:<nik>     the no-show bar, kept by the scheduler
-- KEYS[3] dk:{o:D}:day     q:<svc> override, n:<svc> booked, s:<svc> last queue number
-- KEYS[4] dk:{o:D}:adm     code -> "svc|nik|phone|queue|admitted ms"
-- KEYS[5] dk:{o:D}:nik     nik -> code
-- KEYS[6] dk:{o:D}:phone   phone -> active admissions
-- ARGV: service, default quota, nik, phone, phone cap, code, now ms,
--       unix time at which the day's keys may go
--
-- Answers {"ok", queue}, {"full"}, {"closed"}, {"dup"}, {"phone"},
-- {"bar", until} or {"rebuilding"}.

local svc, nik, phone, code = ARGV[1], ARGV[3], ARGV[4], ARGV[6]

if redis.call('EXISTS', KEYS[1]) == 0 then
    return {'rebuilding'}
end

local bar = redis.call('GET', KEYS[2])
if bar then
    return {'bar', bar}
end

local quota = tonumber(redis.call('HGET', KEYS[3], 'q:' .. svc) or ARGV[2])
if quota <= 0 then
    return {'closed'}
end

if redis.call('HEXISTS', KEYS[5], nik) == 1 then
    return {'dup'}
end

if tonumber(redis.call('HGET', KEYS[3], 'n:' .. svc) or '0') >= quota then
    return {'full'}
end

if tonumber(redis.call('HGET', KEYS[6], phone) or '0') >= tonumber(ARGV[5]) then
    return {'phone'}
end

-- the queue number only ever grows: a cancelled one is never handed out again
local queue = redis.call('HINCRBY', KEYS[3], 's:' .. svc, 1)

redis.call('HINCRBY', KEYS[3], 'n:' .. svc, 1)
redis.call('HSET', KEYS[4], code,
           svc .. '|' .. nik .. '|' .. phone .. '|' .. queue .. '|' .. ARGV[7])
redis.call('HSET', KEYS[5], nik, code)
redis.call('HINCRBY', KEYS[6], phone, 1)

for i = 3, 6 do
    redis.call('EXPIREAT', KEYS[i], ARGV[8])
end

return {'ok', queue}
