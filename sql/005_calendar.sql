-- 005: the office's calendar.  A date is closed (a national holiday, a cuti
-- bersama day, a local closure) or a normally closed weekday is opened, for
-- one office or for all; appointments on a date closed later are cancelled by
-- the office, with the reason, and never become no-shows.
--
-- Which weekdays are normally closed is nginx's configuration
-- (dukcapil_closed_weekdays); PostgreSQL keeps only what departs from it.

-- A closed date.  office NULL: every office.  The reason is what citizens
-- read, in Indonesian ("Libur Nasional: Hari Natal").
CREATE TABLE calendar_closure (
    date        date NOT NULL,
    office      text REFERENCES office,
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200
                                     AND reason !~ '[[:cntrl:]]'),
    source      text NOT NULL CHECK (source IN ('operator', 'import')),
    set_by      text NOT NULL CHECK (length(set_by) BETWEEN 1 AND 100),
    set_at      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT calendar_closure_date_office_key
        UNIQUE NULLS NOT DISTINCT (date, office)
);

-- A normally closed weekday opened (a special Saturday of service).  A
-- closure of the same date wins.
CREATE TABLE calendar_opening (
    date        date NOT NULL,
    office      text REFERENCES office,
    set_by      text NOT NULL CHECK (length(set_by) BETWEEN 1 AND 100),
    set_at      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT calendar_opening_date_office_key
        UNIQUE NULLS NOT DISTINCT (date, office)
);

-- An appointment the office cancelled keeps the reason its citizen is shown.
ALTER TABLE appointment
    ADD COLUMN cancel_reason text
        CHECK (length(cancel_reason) BETWEEN 1 AND 200),
    DROP CONSTRAINT appointment_status_check,
    ADD CONSTRAINT appointment_status_check
        CHECK (status IN ('booked', 'cancelled', 'cancelled_by_office',
                          'checked_in', 'no_show')),
    DROP CONSTRAINT appointment_check,
    ADD CONSTRAINT appointment_cancelled_at_check
        CHECK ((status IN ('cancelled', 'cancelled_by_office'))
               = (cancelled_at IS NOT NULL)),
    ADD CONSTRAINT appointment_cancelled_by_office_check
        CHECK ((status = 'cancelled_by_office') = (cancel_reason IS NOT NULL));

ALTER TABLE scheduler_run
    DROP CONSTRAINT scheduler_run_job_check,
    ADD CONSTRAINT scheduler_run_job_check
        CHECK (job IN ('delivery-batch', 'reconcile', 'import-delivery',
                       'import-holidays'));

-- Orders what changes a date's calendar against the bookings of that date:
-- a change holds it alone, a booking's INSERT shared (calendar_bookable), each
-- until its transaction ends.  So a closure either sees the row of a booking
-- committed before it, and cancels it, or the booking sees the closure and
-- inserts nothing.  pg_advisory_xact_lock(17484, days since 1970-01-01): the
-- scheduler's job locks are class 17483.
CREATE FUNCTION calendar_lock(p_date date, p_shared boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_shared THEN
        PERFORM pg_advisory_xact_lock_shared(17484, p_date - date '1970-01-01');
    ELSE
        PERFORM pg_advisory_xact_lock(17484, p_date - date '1970-01-01');
    END IF;
END
$$;

-- A date's calendar at each office it concerns (p_office, or every office when
-- NULL): the reason of the closure that applies (the office's own before the
-- one of every office), or NULL; and whether an opening applies.
CREATE FUNCTION calendar_day(p_date date, p_office text)
RETURNS TABLE (office text, reason text, opened boolean)
LANGUAGE sql STABLE AS $$
    SELECT o.code,
           (SELECT c.reason FROM calendar_closure c
             WHERE c.date = p_date AND (c.office = o.code OR c.office IS NULL)
             ORDER BY c.office NULLS LAST LIMIT 1),
           EXISTS (SELECT 1 FROM calendar_opening g
                    WHERE g.date = p_date
                      AND (g.office = o.code OR g.office IS NULL))
      FROM office o
     WHERE p_office IS NULL OR o.code = p_office
     ORDER BY o.code
$$;

-- Whether a booking of (office, date) may be inserted, as far as the calendar
-- says: no closure, and an opening if the date is a weekday the office is
-- normally closed (p_weekday_closed: nginx's configuration says so).  Takes
-- the date's lock shared first; being VOLATILE, its query then reads with a
-- snapshot of its own, which sees a closure committed while it waited.  On
-- the path of every booking's INSERT: the rule of calendar_day() written out
-- in two index probes (the set-returning function costs ~200 us a call).
CREATE FUNCTION calendar_bookable(p_office text, p_date date,
                                  p_weekday_closed boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    bookable boolean;
BEGIN
    PERFORM calendar_lock(p_date, true);

    SELECT NOT EXISTS (SELECT 1 FROM calendar_closure c
                        WHERE c.date = p_date
                          AND (c.office = p_office OR c.office IS NULL))
           AND (NOT p_weekday_closed
                OR EXISTS (SELECT 1 FROM calendar_opening g
                            WHERE g.date = p_date
                              AND (g.office = p_office OR g.office IS NULL)))
      INTO bookable;

    RETURN bookable;
END
$$;

-- The operator's steps (and the import's), one statement each.  Each answers
-- rows (outcome, office, reason, opened, cancelled, appointments): outcome
-- 'ok' and one row per office whose calendar the step concerns, as
-- calendar_day() says after it (what Redis is to hold), with the codes of the
-- date's appointments cancelled by the office there, space separated (their
-- admissions are given back; again, if an earlier attempt failed), and how
-- many of them this step cancelled; or one row 'not_found' (nothing to
-- delete), or 'conflict' (appointments: how many stand in the way).

-- Closes p_date at p_office (NULL: every office): the booked appointments
-- there become cancelled_by_office with the reason that applies.  A
-- checked-in citizen is already at the office, and is left to it.  Closing
-- again with the same reason changes nothing.
CREATE FUNCTION calendar_close(p_date date, p_office text, p_reason text,
                               p_actor text, p_source text)
RETURNS TABLE (outcome text, office text, reason text, opened boolean,
               cancelled text, appointments integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM calendar_lock(p_date);

    INSERT INTO calendar_closure AS c (date, office, reason, source, set_by)
    VALUES (p_date, p_office, p_reason, p_source, p_actor)
    ON CONFLICT ON CONSTRAINT calendar_closure_date_office_key
    DO UPDATE SET reason = EXCLUDED.reason, source = EXCLUDED.source,
                  set_by = EXCLUDED.set_by, set_at = now()
     WHERE c.reason IS DISTINCT FROM EXCLUDED.reason;

    RETURN QUERY
    WITH day AS (
        SELECT * FROM calendar_day(p_date, p_office)
    ), gone AS (
        UPDATE appointment a
           SET status = 'cancelled_by_office', cancelled_at = now(),
               cancel_reason = day.reason
          FROM day
         WHERE a.date = p_date AND a.office = day.office
           AND a.status = 'booked' AND day.reason IS NOT NULL
        RETURNING a.office, a.code
    )
    SELECT 'ok'::text, day.office, day.reason, day.opened,
           (SELECT string_agg(x.code, ' ' ORDER BY x.code)
              FROM (SELECT g.code FROM gone g WHERE g.office = day.office
                    UNION
                    SELECT a.code FROM appointment a
                     WHERE a.date = p_date AND a.office = day.office
                       AND a.status = 'cancelled_by_office') x),
           (SELECT count(*)::integer FROM gone g WHERE g.office = day.office)
      FROM day
     ORDER BY day.office;
END
$$;

-- Reopens p_date at p_office: its closure goes (another, of every office or
-- of the office itself, may still apply).  The appointments it cancelled stay
-- cancelled: their citizens were told, their slots given to others.
CREATE FUNCTION calendar_reopen(p_date date, p_office text)
RETURNS TABLE (outcome text, office text, reason text, opened boolean,
               cancelled text, appointments integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM calendar_lock(p_date);

    DELETE FROM calendar_closure c
     WHERE c.date = p_date AND c.office IS NOT DISTINCT FROM p_office;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text,
                            NULL::boolean, NULL::text, 0;
        RETURN;
    END IF;

    RETURN QUERY
    SELECT 'ok'::text, d.office, d.reason, d.opened,
           (SELECT string_agg(a.code, ' ' ORDER BY a.code) FROM appointment a
             WHERE a.date = p_date AND a.office = d.office
               AND a.status = 'cancelled_by_office'),
           0
      FROM calendar_day(p_date, p_office) d;
END
$$;

-- Opens p_date, a weekday p_office (NULL: every office) is normally closed.
CREATE FUNCTION calendar_open(p_date date, p_office text, p_actor text)
RETURNS TABLE (outcome text, office text, reason text, opened boolean,
               cancelled text, appointments integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM calendar_lock(p_date);

    INSERT INTO calendar_opening (date, office, set_by)
    VALUES (p_date, p_office, p_actor)
    ON CONFLICT ON CONSTRAINT calendar_opening_date_office_key DO NOTHING;

    RETURN QUERY
    SELECT 'ok'::text, d.office, d.reason, d.opened, NULL::text, 0
      FROM calendar_day(p_date, p_office) d;
END
$$;

-- Takes an opening back, unless active appointments of a normally closed
-- weekday (p_weekday_closed) would be left on a day no longer open: those are
-- the operator's to cancel with a reason (calendar_close), so that their
-- citizens are told why.
CREATE FUNCTION calendar_unopen(p_date date, p_office text,
                                p_weekday_closed boolean)
RETURNS TABLE (outcome text, office text, reason text, opened boolean,
               cancelled text, appointments integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    stranded integer;
BEGIN
    PERFORM calendar_lock(p_date);

    PERFORM 1 FROM calendar_opening g
     WHERE g.date = p_date AND g.office IS NOT DISTINCT FROM p_office;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text,
                            NULL::boolean, NULL::text, 0;
        RETURN;
    END IF;

    SELECT count(*) INTO stranded
      FROM appointment a
     WHERE p_weekday_closed AND a.date = p_date
       AND a.status IN ('booked', 'checked_in')
       AND (p_office IS NULL OR a.office = p_office)
       AND NOT EXISTS (SELECT 1 FROM calendar_opening g
                        WHERE g.date = p_date
                          AND g.office IS DISTINCT FROM p_office
                          AND (g.office IS NULL OR g.office = a.office));
    IF stranded > 0 THEN
        RETURN QUERY SELECT 'conflict'::text, NULL::text, NULL::text,
                            NULL::boolean, NULL::text, stranded;
        RETURN;
    END IF;

    DELETE FROM calendar_opening g
     WHERE g.date = p_date AND g.office IS NOT DISTINCT FROM p_office;

    RETURN QUERY
    SELECT 'ok'::text, d.office, d.reason, d.opened, NULL::text, 0
      FROM calendar_day(p_date, p_office) d;
END
$$;

-- The night's work on appointments (the scheduler's reconcile): a booked
-- appointment on a date its office closed becomes cancelled_by_office,
-- whatever the date (a booking in flight when the closure came, a day closed
-- after it was over), never a no-show; then every other booked appointment
-- of a day before p_today becomes a no-show.
CREATE FUNCTION appointment_night(p_today date,
                                  OUT cancelled_by_office integer,
                                  OUT no_shows integer)
LANGUAGE plpgsql AS $$
BEGIN
    WITH closed AS (
        SELECT DISTINCT ON (a.id) a.id, c.reason
          FROM calendar_closure c
          JOIN appointment a ON a.date = c.date
                            AND (c.office IS NULL OR a.office = c.office)
         WHERE a.status = 'booked'
         ORDER BY a.id, c.office NULLS LAST
    ), gone AS (
        UPDATE appointment a
           SET status = 'cancelled_by_office', cancelled_at = now(),
               cancel_reason = closed.reason
          FROM closed
         WHERE a.id = closed.id AND a.status = 'booked'
        RETURNING 1
    )
    SELECT count(*) INTO cancelled_by_office FROM gone;

    WITH marked AS (
        UPDATE appointment SET status = 'no_show'
         WHERE status = 'booked' AND date < p_today
        RETURNING 1
    )
    SELECT count(*) INTO no_shows FROM marked;
END
$$;
