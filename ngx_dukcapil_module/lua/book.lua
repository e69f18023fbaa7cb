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
-- Answers one string: "ok <queue>", "full", "closed", "dup", "phone",
-- "bar <until>" or "rebuilding".
--
-- At the rush nearly every run ends at "full", so the reads are gathered
-- in as few calls as the checks allow, and the answer is a string: Redis
-- turns a Lua table into a reply at twice the cost of the whole script's
-- other work (INFO commandstats, usec_per_call; BENCHMARKS.md).

local svc, nik, phone, code = ARGV[1], ARGV[3], ARGV[4], ARGV[6]

local epoch_bar = redis.call('MGET', KEYS[1], KEYS[2])
if not epoch_bar[1] then
    return 'rebuilding'
end

if epoch_bar[2] then
    return 'bar ' .. epoch_bar[2]
end

local day = redis.call('HMGET', KEYS[3], 'q:' .. svc, 'n:' .. svc)
local quota = tonumber(day[1] or ARGV[2])
if quota <= 0 then
    return 'closed'
end

if redis.call('HEXISTS', KEYS[5], nik) == 1 then
    return 'dup'
end

if tonumber(day[2] or '0') >= quota then
    return 'full'
end

if tonumber(redis.call('HGET', KEYS[6], phone) or '0') >= tonumber(ARGV[5]) then
    return 'phone'
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

return 'ok ' .. string.format('%d', queue)
