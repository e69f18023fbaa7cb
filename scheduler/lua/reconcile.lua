-- Makes the admission state of one (office, date) agree with PostgreSQL, in
-- one atomic step so that bookings may go on around it.
--
-- KEYS: dk:{o:D}:day, dk:{o:D}:adm, dk:{o:D}:nik, dk:{D}:phone, then the
--       adm of every other office on that date (the phones are the date's)
-- ARGV: now ms, grace ms, the day's closure reason ("" when not closed),
--       "1" when the day was opened (a normally closed weekday; else ""), S,
--       then S triples
--         <svc> <highest queue number ever given, any status> <quota override or "">
--       then one 6-tuple per committed active appointment
--         <code> <svc> <nik> <phone> <queue> <created ms>
-- Returns {kept in flight, removed, restored, active admissions}.
--
-- An admission with no committed row is a booking in flight while younger
-- than the grace period, and a booking that never committed after it.  On a
-- closed day none is in flight: PostgreSQL refuses its row (the calendar's
-- check in the INSERT), so it goes at once.
-- n and nik are derived from adm, the date's phones from every office's
-- adm; s never decreases.
local day, adm, nik, phone = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local closed, opened = ARGV[3], ARGV[4]
local nsvc = tonumber(ARGV[5])

local committed = {}
local i = 6 + nsvc * 3
while i + 5 <= #ARGV do
    committed[ARGV[i]] = {ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' ..
                          ARGV[i + 3] .. '|' .. ARGV[i + 4], ARGV[i + 5]}
    i = i + 6
end

local kept, removed, restored = 0, 0, 0
local live = {}
local current = redis.call('HGETALL', adm)
for j = 1, #current, 2 do
    local code, value = current[j], current[j + 1]
    local row = committed[code]
    local head, ms = string.match(value, '^(.*)|(%d+)$')
    if row then
        if head ~= row[1] then
            value = row[1] .. '|' .. (ms or row[2])
            redis.call('HSET', adm, code, value)
        end
        live[code] = value
    elseif closed == '' and ms and now - tonumber(ms) < grace then
        live[code] = value
        kept = kept + 1
    else
        redis.call('HDEL', adm, code)
        removed = removed + 1
    end
end
for code, row in pairs(committed) do
    if not live[code] then
        local value = row[1] .. '|' .. row[2]
        redis.call('HSET', adm, code, value)
        live[code] = value
        restored = restored + 1
    end
end

local count, top, niks, phones = {}, {}, {}, {}
local total = 0
for code, value in pairs(live) do
    local svc, n, p, q = string.match(value, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|')
    if svc then
        count[svc] = (count[svc] or 0) + 1
        q = tonumber(q) or 0
        if q > (top[svc] or 0) then top[svc] = q end
        niks[#niks + 1] = n
        niks[#niks + 1] = code
        phones[p] = (phones[p] or 0) + 1
        total = total + 1
    end
end

for k = 5, #KEYS do
    local other = redis.call('HGETALL', KEYS[k])
    for j = 2, #other, 2 do
        local p = string.match(other[j], '^[^|]*|[^|]*|([^|]*)|')
        if p then phones[p] = (phones[p] or 0) + 1 end
    end
end

-- HSET in slices: unpack() is bounded by the Lua stack
local function hset_all(key, flat)
    for k = 1, #flat, 1000 do
        redis.call('HSET', key, unpack(flat, k, math.min(k + 999, #flat)))
    end
end

redis.call('DEL', nik, phone)
hset_all(nik, niks)
local flat = {}
for p, c in pairs(phones) do
    flat[#flat + 1] = p
    flat[#flat + 1] = c
end
hset_all(phone, flat)

local fields = {}
local fieldnames = redis.call('HKEYS', day)
for _, f in ipairs(fieldnames) do
    local svc = string.match(f, '^n:(.*)$')
    if svc then count[svc] = count[svc] or 0 end
end
for k = 0, nsvc - 1 do
    local svc = ARGV[6 + k * 3]
    local pg_top = tonumber(ARGV[7 + k * 3]) or 0
    local override = ARGV[8 + k * 3]
    count[svc] = count[svc] or 0
    if pg_top > (top[svc] or 0) then top[svc] = pg_top end
    if override ~= '' then
        fields[#fields + 1] = 'q:' .. svc
        fields[#fields + 1] = override
    else
        redis.call('HDEL', day, 'q:' .. svc)
    end
end
for svc, c in pairs(count) do
    fields[#fields + 1] = 'n:' .. svc
    fields[#fields + 1] = c
    local s = tonumber(redis.call('HGET', day, 's:' .. svc)) or 0
    if (top[svc] or 0) > s then s = top[svc] end
    fields[#fields + 1] = 's:' .. svc
    fields[#fields + 1] = s
end
if closed ~= '' then
    fields[#fields + 1] = 'closed'
    fields[#fields + 1] = closed
else
    redis.call('HDEL', day, 'closed')
end
if opened ~= '' then
    fields[#fields + 1] = 'opened'
    fields[#fields + 1] = '1'
else
    redis.call('HDEL', day, 'opened')
end
hset_all(day, fields)

return {kept, removed, restored, total}
