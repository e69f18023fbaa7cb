-- Booking decisions, atomic: the whole call runs or none of it.
--
-- One call decides one booking or several laid end to end, in order, each
-- seeing the slots the ones before it took: booking i (from 0) has the eight
-- keys KEYS[8i+1 .. 8i+8] and the 14 arguments ARGV[14i+1 .. 14i+14]; the
-- call's last argument, ARGV[14n+1], is the history of the master the
-- module checked it sends to (its master_replid).  At
-- the 07:00 rush a worker sends the bookings of one event-loop pass in one
-- call: a call costs Redis several times what one more booking in it does.
--
-- The keys of a booking (their schema: domain/keys.h):
--   dk:epoch         while Redis holds a complete state: the history
--                    (master_replid) it was rebuilt on; after a failover
--                    or a restart the master has another, and may lack
--                    the last admissions: "rebuilding" until the scheduler
--                    rebuilt the days from PostgreSQL
--   dk:bar:<nik>     the no-show bar, kept by the scheduler
--   dk:{o:D}:day     q:<svc> override, n:<svc> booked, s:<svc> last queue number,
--                    closed: a closure's reason, opened: a closed weekday opened
--   dk:{o:D}:adm     code -> "svc|nik|phone|queue|admitted ms"
--   dk:{o:D}:nik     nik -> code
--   dk:{D}:phone     phone -> active admissions that date, at every office
--   dk:bar:phone:<phone>  the no-show bar of the phone, kept by the scheduler
--   dk:idem:book:<key>    the request's Idempotency-Key (dk:epoch when none)
-- Its arguments: service, default quota, nik, phone, phone cap (per date),
--   code, now ms, unix time at which the day's keys may go, the phone's cap
--   of active appointments across dates, today and the window's last day
--   (days since 1970-01-01, WIB), "1" when the date is a weekday the office
--   is normally closed (else "0"), the Idempotency-Key's claim "P|<body
--   hash>" ("" when the request has no key, or holds its claim already) and
--   the claim's lifetime in seconds
--
-- The claim of an Idempotency-Key rides in the call: a key that exists
-- answers "idem" at once (the module then reads it, as for any other
-- endpoint); an admitted booking claims its key, and a refused one never
-- does, so the rush's refusals cost no command of their own.
--
-- The phone's appointments across dates are the sum of its count in each
-- date's dk:{D}:phone from today to the window's end: the one place a
-- script makes keys itself (as domain/keys.c does), since handing every
-- booking the window's keys would cost the rush, where they are not read.
--
-- Answers one line per booking, joined by "\n": "ok <queue>", "full",
-- "closed", "dup", "phone", "bar <until>", "rebuilding", "idem", or
-- "error <why>"
-- when Redis refused that booking's commands (the others still count).
--
-- At the rush nearly every booking ends at "full", and what a call costs
-- Redis is mostly its commands, whatever they do: so a call reads what its
-- bookings share once for all of them, the epoch and every bar (the NIK's
-- and the phone's) in one MGET, a day's quota, count and calendar in one
-- HMGET, whether its NIKs are active on a day in one HMGET.  What a
-- booking takes is written at once and into these reads as well, so each
-- booking sees exactly what it would have seen alone after the ones before
-- it.  The answer is a string: Redis turns a Lua table into a reply at
-- twice the cost of the whole script's other work (INFO commandstats,
-- usec_per_call; BENCHMARKS.md).

local n = #KEYS / 8
local history = ARGV[14 * n + 1]

-- dk:epoch is the first key of every booking; then its two bars
local epoch_bars = { KEYS[1] }
for i = 0, n - 1 do
    epoch_bars[2 * i + 2] = KEYS[8 * i + 2]
    epoch_bars[2 * i + 3] = KEYS[8 * i + 7]
end
epoch_bars = redis.call('MGET', unpack(epoch_bars))

-- day key and service -> { quota = override or false, booked = count,
-- closed = a closure's reason or false, opened = an opening or false }
local days = {}

-- nik key -> { nik -> true } for every NIK of the call active that day
local active = {}

local function day(key, svc)
    local d = days[key .. ' ' .. svc]

    if not d then
        local q = redis.call('HMGET', key, 'q:' .. svc, 'n:' .. svc,
                             'closed', 'opened')
        d = { quota = q[1], booked = tonumber(q[2] or '0'), closed = q[3],
              opened = q[4] }
        days[key .. ' ' .. svc] = d
    end

    return d
end

local function niks_of(key)
    local set = active[key]

    if not set then
        local niks = {}
        for i = 0, n - 1 do
            if KEYS[8 * i + 5] == key then
                niks[#niks + 1] = ARGV[14 * i + 3]
            end
        end

        local codes = redis.call('HMGET', key, unpack(niks))

        set = {}
        for j = 1, #niks do
            if codes[j] then
                set[niks[j]] = true
            end
        end
        active[key] = set
    end

    return set
end

-- 'YYYY-MM-DD' of a day number, as domain/wib.c (civil from days)
local function date_of(day)
    local z = day + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460)
                            + math.floor(doe / 36524)
                            - math.floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + math.floor(yoe / 4)
                       - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local d = doy - math.floor((153 * mp + 2) / 5) + 1
    local m = mp < 10 and mp + 3 or mp - 9
    local y = yoe + era * 400 + (m <= 2 and 1 or 0)
    return string.format('%04d-%02d-%02d', y, m, d)
end

-- the phone's active admissions from day first to day last, every office;
-- a date whose key Redis refuses to read counts nothing here (its own
-- bookings fail on it), so one bad key does not stop every other date
local function active(phone, first, last)
    local sum = 0
    for day = tonumber(first), tonumber(last) do
        local n = redis.pcall('HGET', 'dk:{' .. date_of(day) .. '}:phone',
                              phone)
        if type(n) == 'string' then
            sum = sum + tonumber(n)
        end
    end
    return sum
end

local function book(i)
    local k, a = 8 * i, 14 * i
    local svc, nik, phone, code = ARGV[a + 1], ARGV[a + 3], ARGV[a + 4],
                                  ARGV[a + 6]
    local claim = ARGV[a + 13]

    -- a request sent again: its first answer, or "in progress"
    if claim ~= '' and redis.call('EXISTS', KEYS[k + 8]) == 1 then
        return 'idem'
    end

    if epoch_bars[1] ~= history then
        return 'rebuilding'
    end

    -- the NIK's bar, else the phone's
    local bar = epoch_bars[2 * i + 2] or epoch_bars[2 * i + 3]
    if bar then
        -- a line per booking: nothing stored may add one
        return 'bar ' .. string.gsub(bar, '%c', ' ')
    end

    -- the calendar and the quota rule of domain/keys.h: a closed day, or
    -- a closed weekday not opened, admits no one; else an operator's
    -- override, else the configured quota
    local d = day(KEYS[k + 3], svc)
    if d.closed or (ARGV[a + 12] == '1' and not d.opened) then
        return 'closed'
    end

    local quota = tonumber(d.quota or ARGV[a + 2])
    if quota <= 0 then
        return 'closed'
    end

    local niks = niks_of(KEYS[k + 5])
    if niks[nik] then
        return 'dup'
    end

    if d.booked >= quota then
        return 'full'
    end

    if tonumber(redis.call('HGET', KEYS[k + 6], phone) or '0')
       >= tonumber(ARGV[a + 5])
    then
        return 'phone'
    end

    if active(phone, ARGV[a + 10], ARGV[a + 11]) >= tonumber(ARGV[a + 9]) then
        return 'phone'
    end

    -- the queue number only ever grows: a cancelled one is never handed
    -- out again
    local queue = redis.call('HINCRBY', KEYS[k + 3], 's:' .. svc, 1)

    d.booked = redis.call('HINCRBY', KEYS[k + 3], 'n:' .. svc, 1)
    redis.call('HSET', KEYS[k + 4], code,
               svc .. '|' .. nik .. '|' .. phone .. '|' .. queue .. '|'
               .. ARGV[a + 7])
    redis.call('HSET', KEYS[k + 5], nik, code)
    niks[nik] = true
    redis.call('HINCRBY', KEYS[k + 6], phone, 1)

    for j = 3, 6 do
        redis.call('EXPIREAT', KEYS[k + j], ARGV[a + 8])
    end

    if claim ~= '' then
        redis.call('SET', KEYS[k + 8], claim, 'EX', ARGV[a + 14])
    end

    return 'ok ' .. string.format('%d', queue)
end

local answers = {}

for i = 0, n - 1 do
    local ok, answer = pcall(book, i)

    if not ok then
        -- over maxmemory, Redis refuses a call's first write, so such a
        -- booking has taken nothing; the next ones are still decided
        answer = type(answer) == 'table' and answer.err or tostring(answer)
        answer = 'error ' .. string.gsub(answer, '%c', ' ')
    end

    answers[i + 1] = answer
end

return table.concat(answers, '\n')
