-- Booking decisions, atomic: the whole call runs or none of it.
--
-- One call decides one booking or several laid end to end, in order, each
-- seeing the slots the ones before it took: booking i (from 0) has the six
-- keys KEYS[6i+1 .. 6i+6] and the nine arguments ARGV[9i+1 .. 9i+9].  At
-- the 07:00 rush a worker sends the bookings of one event-loop pass in one
-- call: a call costs Redis several times what one more booking in it does.
--
-- The keys of a booking (their schema: domain/keys.h):
--   dk:epoch         present while Redis holds a complete state
--   dk:bar:<nik>     the no-show bar, kept by the scheduler
--   dk:{o:D}:day     q:<svc> override, n:<svc> booked, s:<svc> last queue number,
--                    closed: a closure's reason, opened: a closed weekday opened
--   dk:{o:D}:adm     code -> "svc|nik|phone|queue|admitted ms"
--   dk:{o:D}:nik     nik -> code
--   dk:{o:D}:phone   phone -> active admissions
-- Its arguments: service, default quota, nik, phone, phone cap, code,
--   now ms, unix time at which the day's keys may go, "1" when the date is a
--   weekday the office is normally closed (else "0")
--
-- Answers one line per booking, joined by "\n": "ok <queue>", "full",
-- "closed", "dup", "phone", "bar <until>", "rebuilding", or "error <why>"
-- when Redis refused that booking's commands (the others still count).
--
-- At the rush nearly every booking ends at "full", and what a call costs
-- Redis is mostly its commands, whatever they do: so a call reads what its
-- bookings share once for all of them, the epoch and every bar in one
-- MGET, a day's quota, count and calendar in one HMGET, whether its
-- NIKs are active on a day in one HMGET.  What a booking takes is written
-- at once and into these reads as well, so each booking sees exactly what
-- it would have seen alone after the ones before it.  The answer is a
-- string: Redis turns a Lua table into a reply at twice the cost of the
-- whole script's other work (INFO commandstats, usec_per_call;
-- BENCHMARKS.md).

local n = #KEYS / 6

-- dk:epoch is the first key of every booking
local epoch_bars = { KEYS[1] }
for i = 0, n - 1 do
    epoch_bars[i + 2] = KEYS[6 * i + 2]
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
            if KEYS[6 * i + 5] == key then
                niks[#niks + 1] = ARGV[9 * i + 3]
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

local function book(i)
    local k, a = 6 * i, 9 * i
    local svc, nik, phone, code = ARGV[a + 1], ARGV[a + 3], ARGV[a + 4],
                                  ARGV[a + 6]

    if not epoch_bars[1] then
        return 'rebuilding'
    end

    if epoch_bars[i + 2] then
        -- a line per booking: nothing stored may add one
        return 'bar ' .. string.gsub(epoch_bars[i + 2], '%c', ' ')
    end

    -- the calendar and the quota rule of domain/keys.h: a closed day, or
    -- a closed weekday not opened, admits no one; else an operator's
    -- override, else the configured quota
    local d = day(KEYS[k + 3], svc)
    if d.closed or (ARGV[a + 9] == '1' and not d.opened) then
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
