-- 013: the queue at the office (issue 15): an appointment checked in is
-- called to a counter (loket), served there, or after three calls without an
-- answer a no-show; each step of an appointment is a row of its history, with
-- its actor and its counter, and a step that is not a row of
-- appointment_transition is refused by the database, whoever tries it.

-- The life cycle, as data ----------------------------------------------------

CREATE TABLE appointment_transition (
    from_status text NOT NULL
                CHECK (from_status IN ('booked', 'checked_in', 'called')),
    to_status   text NOT NULL
                CHECK (to_status IN ('cancelled', 'cancelled_by_office',
                                     'checked_in', 'called', 'served',
                                     'no_show')),
    PRIMARY KEY (from_status, to_status)
);

-- booked -> checked_in only on the appointment's own WIB date: the module's
-- check-in says which day today is (nginx's clock, as for every date it
-- decides), so the rule is in its statement, not here.  booked -> no_show
-- is the scheduler's, after the day (appointment_night).  called ->
-- checked_in is a recall: back in the queue, to be called again; at the
-- third call's recall, the citizen is a no-show instead (called -> no_show,
-- as "tidak hadir" at the counter).
INSERT INTO appointment_transition (from_status, to_status) VALUES
    ('booked',     'cancelled'),
    ('booked',     'cancelled_by_office'),
    ('booked',     'checked_in'),
    ('booked',     'no_show'),
    ('checked_in', 'called'),
    ('called',     'checked_in'),
    ('called',     'served'),
    ('called',     'no_show');

-- The appointment's new states and what the counter writes -------------------
--
-- calls: the calls so far (at most 3); counter: the loket of the last call;
-- called_at: the FIRST call (the wait is called_at - checked_in_at);
-- finished_at / finished_by: served, or a no-show at the counter.
-- step_by: the actor of the step the UPDATE that sets it takes; read (and
-- cleared) by appointment_step() below, so it is NULL between steps and an
-- UPDATE of the status that does not name its actor is refused, unless its
-- step has a default actor (a cancellation by the citizen or the office, the
-- scheduler's no-show: the writers older than this file).
ALTER TABLE appointment
    ADD COLUMN calls integer NOT NULL DEFAULT 0 CHECK (calls BETWEEN 0 AND 3),
    ADD COLUMN counter text CHECK (counter ~ '^[0-9A-Za-z-]{1,16}$'),
    ADD COLUMN called_at timestamptz,
    ADD COLUMN finished_at timestamptz,
    ADD COLUMN finished_by text CHECK (length(finished_by) BETWEEN 1 AND 100),
    ADD COLUMN step_by text CHECK (length(step_by) BETWEEN 1 AND 100),
    DROP CONSTRAINT appointment_status_check,
    ADD CONSTRAINT appointment_status_check
        CHECK (status IN ('booked', 'cancelled', 'cancelled_by_office',
                          'checked_in', 'called', 'served', 'no_show')),
    -- checked in exactly when in the office's queue or past it: a no-show
    -- that came from a call was checked in, one of the scheduler's was not
    DROP CONSTRAINT appointment_check1,
    ADD CONSTRAINT appointment_checked_in_at_check
        CHECK ((status IN ('checked_in', 'called', 'served')
                OR (status = 'no_show' AND calls > 0))
               = (checked_in_at IS NOT NULL)),
    ADD CONSTRAINT appointment_call_columns_check
        CHECK ((calls > 0) = (called_at IS NOT NULL)
               AND (calls > 0) = (counter IS NOT NULL)
               AND (calls = 0 OR checked_in_at IS NOT NULL)),
    ADD CONSTRAINT appointment_called_check
        CHECK (status NOT IN ('called', 'served') OR calls > 0),
    ADD CONSTRAINT appointment_finished_at_check
        CHECK ((status = 'served' OR (status = 'no_show' AND calls > 0))
               = (finished_at IS NOT NULL)
               AND (finished_at IS NULL) = (finished_by IS NULL));

-- One active appointment per NIK and date: a slot used at the counter
-- (called, served) stays used, as a checked-in one.  The booking's INSERT
-- names this predicate in its ON CONFLICT (ngx_http_dukcapil_sql.c); the
-- scheduler's reconcile counts the same statuses (job_reconcile.c).
DROP INDEX appointment_one_active_per_nik_date;
CREATE UNIQUE INDEX appointment_one_active_per_nik_date
    ON appointment (nik, date)
    WHERE status IN ('booked', 'checked_in', 'called', 'served');

-- The call: the lowest queue number waiting at an office today.  Only the
-- rows waiting now are in it, so it stays small all day.
CREATE INDEX appointment_waiting
    ON appointment (office, date, queue_number, checked_in_at)
    WHERE status = 'checked_in';

-- The history ----------------------------------------------------------------

-- One row per step of an appointment, from its check-in or its cancellation
-- on (its booking is its row's created_at).  office: the appointment's, so
-- that the waiting-room display reads the day's calls of one office from
-- one index (appointment_history_calls).
CREATE TABLE appointment_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id  bigint NOT NULL REFERENCES appointment ON DELETE CASCADE,
    at              timestamptz NOT NULL DEFAULT now(),
    from_status     text NOT NULL,
    to_status       text NOT NULL,
    actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 100),
    counter         text,
    note            text CHECK (length(note) <= 1000),
    office          text NOT NULL REFERENCES office,
    FOREIGN KEY (from_status, to_status) REFERENCES appointment_transition
);

CREATE INDEX appointment_history_of ON appointment_history (appointment_id, id);

CREATE INDEX appointment_history_calls ON appointment_history (office, at)
    WHERE to_status = 'called';

-- Every change of an appointment's status, whoever writes it: refused unless
-- it is a row of appointment_transition, and written to the history with
-- its actor (NEW.step_by, or the step's own column of its actor:
-- checked_in_by, finished_by; or the default actor of a step older than
-- this file: 'citizen', 'office', 'scheduler') and its counter (the
-- call's, or the call's the step ends).  The reason of an office's
-- cancellation is the row's note.
CREATE FUNCTION appointment_step() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    actor text;
BEGIN
    PERFORM 1 FROM appointment_transition t
     WHERE t.from_status = OLD.status AND t.to_status = NEW.status;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'appointment %: % -> % is not a step of its life cycle',
                        OLD.code, OLD.status, NEW.status
              USING ERRCODE = 'check_violation',
                    HINT = 'appointment_transition lists the steps';
    END IF;

    actor := COALESCE(NEW.step_by,
                      CASE WHEN OLD.status = 'booked'
                                AND NEW.status = 'checked_in'
                           THEN NEW.checked_in_by
                           WHEN OLD.status = 'called'
                                AND NEW.status IN ('served', 'no_show')
                           THEN NEW.finished_by
                           WHEN NEW.status = 'cancelled' THEN 'citizen'
                           WHEN NEW.status = 'cancelled_by_office' THEN 'office'
                           WHEN OLD.status = 'booked'
                                AND NEW.status = 'no_show' THEN 'scheduler'
                      END);
    IF actor IS NULL THEN
        RAISE EXCEPTION 'appointment %: % -> % needs its actor (step_by)',
                        OLD.code, OLD.status, NEW.status
              USING ERRCODE = 'not_null_violation';
    END IF;

    INSERT INTO appointment_history (appointment_id, from_status, to_status,
                                     actor, counter, note, office)
    VALUES (OLD.id, OLD.status, NEW.status, actor,
            CASE WHEN NEW.status = 'called' OR OLD.status = 'called'
                 THEN NEW.counter END,
            CASE WHEN NEW.status = 'cancelled_by_office'
                 THEN NEW.cancel_reason END,
            OLD.office);

    NEW.step_by := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER appointment_step
    BEFORE UPDATE OF status ON appointment
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION appointment_step();

-- step_by names one step only: an UPDATE that sets it without changing the
-- status would leave it for the next one.
CREATE FUNCTION appointment_step_by_cleared() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.step_by := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER appointment_step_by_cleared
    BEFORE UPDATE OF step_by ON appointment
    FOR EACH ROW
    WHEN (OLD.status IS NOT DISTINCT FROM NEW.status
          AND NEW.step_by IS NOT NULL)
    EXECUTE FUNCTION appointment_step_by_cleared();

-- The counter's steps, each one statement of the module ----------------------

-- Calls the next citizen to p_counter: the lowest queue number checked in at
-- p_office on p_date for one of p_services, ties broken by who checked in
-- first.  Rows another call holds are skipped, not waited for, so two
-- counters calling at once never get the same citizen, and neither waits
-- for the other.  No row: nobody waits, or p_until (when the module stopped
-- waiting and answered 503) is past: a call that comes late calls no one, so
-- that no citizen is called to a counter whose operator was told it failed.
CREATE FUNCTION appointment_call(p_office text, p_date date,
                                 p_services text[], p_counter text,
                                 p_actor text, p_until timestamptz)
RETURNS SETOF appointment
LANGUAGE plpgsql AS $$
BEGIN
    IF clock_timestamp() >= p_until THEN
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

-- The steps of a called citizen at the counter, by code: 'recall' (back in
-- the queue; at the third call a no-show), 'served', 'absent' (a no-show).
-- Answers the outcome ('ok', 'not_found', 'conflict': not called now;
-- 'late': p_until is past, nothing done, as appointment_call()) and the
-- appointment as it is after the step (as it is, on a conflict).
CREATE FUNCTION appointment_counter_step(p_code text, p_step text,
                                         p_actor text, p_until timestamptz,
                                         OUT outcome text,
                                         OUT status text, OUT calls integer,
                                         OUT counter text)
LANGUAGE plpgsql AS $$
DECLARE
    a appointment%ROWTYPE;
    to_status text;
BEGIN
    IF clock_timestamp() >= p_until THEN
        outcome := 'late';
        RETURN;
    END IF;

    SELECT * INTO a FROM appointment x WHERE x.code = p_code FOR UPDATE;
    IF NOT FOUND THEN
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

-- The older writers of a status ----------------------------------------------

-- 005's, with the scheduler named as the actor of its steps (appointment_step
-- would name it all the same; said here, it is said where it is done).
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
        UPDATE appointment SET status = 'no_show', step_by = 'scheduler'
         WHERE status = 'booked' AND date < p_today
        RETURNING 1
    )
    SELECT count(*) INTO no_shows FROM marked;
END
$$;

-- 005's, with a citizen at the counter (called, served) standing in the way
-- of taking an opening back as a checked-in one does.
CREATE OR REPLACE FUNCTION calendar_unopen(p_date date, p_office text,
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
       AND a.status IN ('booked', 'checked_in', 'called', 'served')
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
