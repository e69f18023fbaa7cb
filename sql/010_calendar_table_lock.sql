-- 010: a change of the calendar orders itself against the bookings by a lock
-- on the appointment table, not by a lock per date that every booking takes.
--
-- 005 had each booking's INSERT take the date's advisory lock shared, inside
-- a PL/pgSQL function (calendar_bookable) whose query then read with a
-- snapshot of its own: about 100 us a booking, and every booking of the rush
-- queued on the one lock-manager partition of its date (BENCHMARKS.md,
-- "Session 6").  Now a change of the calendar, which is rare and quick, takes
-- the table in SHARE ROW EXCLUSIVE mode instead.  That mode conflicts with
-- the ROW EXCLUSIVE lock every INSERT, UPDATE and DELETE of appointment holds
-- until its transaction ends, and with itself.  So:
--
--  * a change waits for every write of appointment in progress, and its own
--    statements, which run after, see their rows: a closure cancels a booking
--    committed before it;
--  * a booking that comes while the change holds the lock waits for it, and
--    its statement's snapshot, taken once its locks are granted (each
--    statement of READ COMMITTED takes one after it has opened its tables),
--    sees the change: it inserts nothing on a date just closed;
--  * two changes of the calendar run one after the other.
--
-- The booking's INSERT checks the calendar with two index probes written in
-- the statement itself (ngx_http_dukcapil_sql.c), the rule of calendar_day().
-- The wait a change imposes on the bookings is that of the longest write of
-- appointment in progress, a few milliseconds; the module's deadline on its
-- INSERT bounds what a booking may wait.

-- While a change waits for the lock, the bookings queue behind it: it
-- waits a second at most (a VACUUM, an index built concurrently, a long
-- write of appointment in the way), then fails, and the operator's step is
-- answered 503, to be tried again.
CREATE OR REPLACE FUNCTION calendar_lock(p_date date, p_shared boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('lock_timeout', '1s', true);
    LOCK TABLE appointment IN SHARE ROW EXCLUSIVE MODE;
END
$$;

COMMENT ON FUNCTION calendar_lock(date, boolean) IS
    'Taken by each change of the calendar: waits for the writes of '
    'appointment in progress and holds new ones until the change commits '
    '(sql/010_calendar_table_lock.sql). Its arguments are kept for the '
    'callers of 005.';

DROP FUNCTION calendar_bookable(text, date, boolean);
