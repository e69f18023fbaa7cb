-- 015: the counter's defects a review found in 013 (issue 15): a counter
-- calls one citizen at a time; a call or a step that waited for a lock past
-- the module's deadline does nothing; the night closes the calls left open;
-- an operator's closure names the operator in its cancellations' history.

-- A counter's call in progress: the citizen called to it and not yet
-- finished (served, absent, recalled).  Few rows at any time.
CREATE INDEX appointment_called
    ON appointment (office, date, counter)
    WHERE status = 'called';

-- Whether p_until (the module's deadline, in this server's clock) is past;
-- if not, no lock of the rest of the transaction (the module's statement) is
-- waited for beyond it: the wait ends with lock_not_available, and the
-- statement changes nothing.
CREATE FUNCTION counter_late(p_until timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    left_ms bigint;
BEGIN
    left_ms := ceil(extract(epoch FROM p_until - clock_timestamp()) * 1000);
    IF left_ms <= 0 THEN
        RETURN true;
    END IF;
    PERFORM set_config('lock_timeout', left_ms || 'ms', true);
    RETURN false;
END
$$;

-- 013's, with one citizen at a time per counter: while p_counter at
-- p_office on p_date has a citizen called, a call answers that citizen again
-- (a double click, a tab that lost the answer of a call that committed),
-- and writes nothing; the operator ends the visit (served, absent, recall)
-- before the next.  Calls at one counter are serialised by an advisory lock
-- (17485, the hash of office and counter), so two at once cannot both find
-- none called; every lock is waited for until p_until at most, and a call
-- that got its locks after p_until calls no one.
CREATE OR REPLACE FUNCTION appointment_call(p_office text, p_date date,
                                            p_services text[],
                                            p_counter text, p_actor text,
                                            p_until timestamptz)
RETURNS SETOF appointment
LANGUAGE plpgsql AS $$
DECLARE
    held appointment%ROWTYPE;
BEGIN
    IF counter_late(p_until) THEN
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock(17485,
                                  hashtext(p_office || ' ' || p_counter));

    SELECT * INTO held FROM appointment a
     WHERE a.office = p_office AND a.date = p_date
       AND a.counter = p_counter AND a.status = 'called'
     ORDER BY a.called_at, a.id
     LIMIT 1
       FOR UPDATE;

    IF clock_timestamp() >= p_until THEN
        RETURN;
    END IF;

    IF held.id IS NOT NULL THEN
        RETURN NEXT held;
        RETURN;
    END IF;

    RETURN QUERY
    UPDATE appointment a
       SET status = 'called', calls = a.calls + 1, counter = p_counter,
           called_at = COALESCE(a.called_at, now()), step_by = p_actor
     WHERE a.id = (SELECT w.id FROM appointment w
                    WHERE w.office = p_office AND w.date = p_date
                      AND w.status = 'checked_in'
                      AND w.service = ANY (p_services)
                    ORDER BY w.queue_number, w.checked_in_at, w.id
                    LIMIT 1
                      FOR UPDATE SKIP LOCKED)
       AND a.status = 'checked_in'
    RETURNING a.*;
END
$$;

-- 013's, with the deadline checked again once the row is locked: a step
-- that waited for another one (or for anything holding the row) past
-- p_until is 'late' and does nothing, as the operator heard 503.
CREATE OR REPLACE FUNCTION appointment_counter_step(p_code text, p_step text,
                                                    p_actor text,
                                                    p_until timestamptz,
                                                    OUT outcome text,
                                                    OUT status text,
                                                    OUT calls integer,
                                                    OUT counter text)
LANGUAGE plpgsql AS $$
DECLARE
    a appointment%ROWTYPE;
    to_status text;
BEGIN
    IF counter_late(p_until) THEN
        outcome := 'late';
        RETURN;
    END IF;

    SELECT * INTO a FROM appointment x WHERE x.code = p_code FOR UPDATE;
    IF clock_timestamp() >= p_until THEN
        outcome := 'late';
        RETURN;
    END IF;
    IF a.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    status := a.status;
    calls := a.calls;
    counter := a.counter;
    IF a.status <> 'called' THEN
        outcome := 'conflict';
        RETURN;
    END IF;

    to_status := CASE p_step
                     WHEN 'recall' THEN CASE WHEN a.calls >= 3 THEN 'no_show'
                                             ELSE 'checked_in' END
                     WHEN 'served' THEN 'served'
                     WHEN 'absent' THEN 'no_show'
                 END;
    IF to_status IS NULL THEN
        RAISE EXCEPTION 'appointment_counter_step: no step %', p_step;
    END IF;

    UPDATE appointment x
       SET status = to_status, step_by = p_actor,
           finished_at = CASE WHEN to_status = 'checked_in' THEN NULL
                              ELSE now() END,
           finished_by = CASE WHEN to_status = 'checked_in' THEN NULL
                              ELSE p_actor END
     WHERE x.id = a.id;

    outcome := 'ok';
    status := to_status;
END
$$;

-- 013's, with the calls a past day left open: a citizen called and never
-- finished (the operator pressed neither "Selesai" nor "Tidak hadir") is a
-- no-show at the counter, ended by the scheduler (called -> no_show, the
-- call's counter in its history row), counted in no_shows.  A citizen left
-- checked_in on a past day (checked in, never called) stays so: they came,
-- and nobody called them.  ops_stats counts such a day's row in booked and
-- checked_in, in neither served nor no_show, and in no wait (no called_at).
CREATE OR REPLACE FUNCTION appointment_night(p_today date,
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
               cancel_reason = closed.reason, step_by = 'scheduler'
          FROM closed
         WHERE a.id = closed.id AND a.status = 'booked'
        RETURNING 1
    )
    SELECT count(*) INTO cancelled_by_office FROM gone;

    WITH marked AS (
        UPDATE appointment
           SET status = 'no_show', step_by = 'scheduler',
               finished_at = CASE WHEN status = 'called' THEN now() END,
               finished_by = CASE WHEN status = 'called'
                                  THEN 'scheduler' END
         WHERE status IN ('booked', 'called') AND date < p_today
        RETURNING 1
    )
    SELECT count(*) INTO no_shows FROM marked;
END
$$;

-- 005's, with the operator (p_actor) as the actor of its cancellations'
-- history rows, not the default 'office' of appointment_step().
CREATE OR REPLACE FUNCTION calendar_close(p_date date, p_office text,
                                          p_reason text, p_actor text,
                                          p_source text)
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
               cancel_reason = day.reason, step_by = p_actor
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
