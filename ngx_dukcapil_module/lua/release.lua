-- Gives one admission back: after a cancellation, or after PostgreSQL
-- refused the booking.  Releasing twice releases once.
--
-- KEYS[1] dk:{o:D}:day   KEYS[2] dk:{o:D}:adm   KEYS[3] dk:{o:D}:nik
-- KEYS[4] dk:{o:D}:phone
-- ARGV[1] the appointment code
--
-- Answers 1 when an admission was released, 0 when there was none.

local entry = redis.call('HGET', KEYS[2], ARGV[1])
if not entry then
    return 0
end

local svc, nik, phone = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)|')

redis.call('HDEL', KEYS[2], ARGV[1])

if redis.call('HGET', KEYS[3], nik) == ARGV[1] then
    redis.call('HDEL', KEYS[3], nik)
end

if redis.call('HINCRBY', KEYS[4], phone, -1) <= 0 then
    redis.call('HDEL', KEYS[4], phone)
end

if redis.call('HINCRBY', KEYS[1], 'n:' .. svc, -1) < 0 then
    redis.call('HSET', KEYS[1], 'n:' .. svc, 0)
end

return 1
