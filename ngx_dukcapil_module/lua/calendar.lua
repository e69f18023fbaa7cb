-- An operator's change of a date's calendar, applied to the offices it
-- concerns at once, after PostgreSQL has committed it: each office's day
-- hash says whether the date is closed (and why) or opened, and the
-- admissions of the appointments the closure cancelled are given back.
--
-- KEYS: per office, its day's dk:{o:D}:day, adm, nik and phone (4 each)
-- ARGV: the unix time at which the day's keys may go, then per office, in
--   the order of KEYS: the closure's reason ("" when open), "1" when an
--   opening applies (else ""), how many codes follow, and those codes
--
-- Answers how many admissions were given back.  Giving one back is
-- release.lua's: releasing twice releases once.

local function release(day, adm, nik, phone, code)
    local entry = redis.call('HGET', adm, code)
    if not entry then
        return 0
    end

    local svc, n, p = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)|')

    redis.call('HDEL', adm, code)

    if redis.call('HGET', nik, n) == code then
        redis.call('HDEL', nik, n)
    end

    if redis.call('HINCRBY', phone, p, -1) <= 0 then
        redis.call('HDEL', phone, p)
    end

    if redis.call('HINCRBY', day, 'n:' .. svc, -1) < 0 then
        redis.call('HSET', day, 'n:' .. svc, 0)
    end

    return 1
end

local released = 0
local a = 2

for i = 0, #KEYS / 4 - 1 do
    local day, adm, nik, phone = KEYS[4 * i + 1], KEYS[4 * i + 2],
                                 KEYS[4 * i + 3], KEYS[4 * i + 4]
    local reason, opened, m = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])

    if reason ~= '' then
        redis.call('HSET', day, 'closed', reason)
    else
        redis.call('HDEL', day, 'closed')
    end

    if opened ~= '' then
        redis.call('HSET', day, 'opened', '1')
    else
        redis.call('HDEL', day, 'opened')
    end

    redis.call('EXPIREAT', day, ARGV[1])

    for j = 1, m do
        released = released + release(day, adm, nik, phone, ARGV[a + 2 + j])
    end

    a = a + 3 + m
end

return released
