-- 006: every document reaches its citizen (issue 12).  The delivery budget
-- is a period of dates with an amount, decided at submission; steps only the
-- delivery may take are refused to operators; a document that cannot be
-- delivered waits at a named office; a change that is no step (an address
-- confirmed, a failed delivery) is a row of the history; every note a
-- citizen reads is Indonesian.

-- Offices ---------------------------------------------------------------------

-- The UPT office of each kecamatan: where a document that cannot be
-- delivered waits for its citizen.  NULL: none, such a document waits at the
-- MPP.  Data, not code: a UPT that stops handing out documents is an UPDATE.
ALTER TABLE kecamatan ADD COLUMN upt_office text REFERENCES office;

UPDATE kecamatan k SET upt_office = m.office
  FROM (VALUES ('14.71.01', 'sukajadi'),       ('14.71.02', 'pekanbaru_kota'),
               ('14.71.03', 'sail'),           ('14.71.04', 'limapuluh'),
               ('14.71.05', 'senapelan'),      ('14.71.06', 'rumbai_barat'),
               ('14.71.07', 'bukit_raya'),     ('14.71.08', 'binawidya'),
               ('14.71.09', 'marpoyan_damai'), ('14.71.10', 'tenayan_raya'),
               ('14.71.11', 'payung_sekaki'),  ('14.71.12', 'rumbai'),
               ('14.71.13', 'tuah_madani'),    ('14.71.14', 'kulim'),
               ('14.71.15', 'rumbai_timur')) AS m (code, office)
 WHERE k.code = m.code;

-- The office a document waits at when it is not delivered: the UPT of its
-- kecamatan, else the MPP.
CREATE FUNCTION pickup_office_of(p_kecamatan_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT k.upt_office FROM kecamatan k
                      WHERE k.code = p_kecamatan_code), 'mpp')
$$;

-- Budget periods ----------------------------------------------------------------

-- One period of the delivery budget (DAK is yearly): its first and last WIB
-- day and how many deliveries it pays for.  Written by the scheduler from
-- its configuration, the current period and the next one, so that the next
-- period is there before its first day and starts by itself.  No two
-- periods overlap.  warned_*_at: when the scheduler's log warned that 80% and
-- 95% of the amount were spent (once each).
CREATE TABLE delivery_period (
    starts          date PRIMARY KEY,
    ends            date NOT NULL,
    amount          integer NOT NULL CHECK (amount BETWEEN 0 AND 10000000),
    set_at          timestamptz NOT NULL DEFAULT now(),
    warned_80_at    timestamptz,
    warned_95_at    timestamptz,

    CHECK (ends >= starts),
    EXCLUDE USING gist (daterange(starts, ends, '[]') WITH &&)
);

-- The configuration's period wins: a period that overlaps it and has not
-- begun before it is replaced, one that began before it ends the day before.
-- A new amount is warned about afresh.
CREATE FUNCTION delivery_period_set(p_starts date, p_ends date,
                                    p_amount integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_period p
     WHERE p.starts > p_starts AND p.starts <= p_ends;
    UPDATE delivery_period p SET ends = p_starts - 1
     WHERE p.starts < p_starts AND p.ends >= p_starts;
    INSERT INTO delivery_period AS p (starts, ends, amount)
    VALUES (p_starts, p_ends, p_amount)
    ON CONFLICT (starts) DO UPDATE
       SET ends = EXCLUDED.ends, amount = EXCLUDED.amount, set_at = now(),
           warned_80_at = NULL, warned_95_at = NULL
     WHERE p.ends <> EXCLUDED.ends OR p.amount <> EXCLUDED.amount;
END
$$;

-- What a period has spent: the deliveries of the batches of its nights; and
-- what is committed against the budget now: the post applications accepted
-- and not yet batched, each of which will cost one delivery (whatever the
-- period it is batched in).
CREATE FUNCTION delivery_budget_of(p_starts date, p_ends date,
                                   OUT used bigint, OUT pending bigint)
LANGUAGE sql STABLE AS $$
    SELECT (SELECT COALESCE(sum(b.item_count), 0) FROM delivery_batch b
             WHERE b.night BETWEEN p_starts AND p_ends),
           (SELECT count(*) FROM application a
             WHERE a.delivery_method = 'post'
               AND a.status IN ('submitted', 'verified', 'processing',
                                'completed'))
$$;

CREATE INDEX application_post_pending ON application (id)
    WHERE delivery_method = 'post'
      AND status IN ('submitted', 'verified', 'processing', 'completed');

-- Submission --------------------------------------------------------------------

-- A submission, the module's one statement: the application and its first
-- history row.  A post application is taken only while the budget of the
-- period holding p_today (WIB, the module's clock) has room for it beside
-- every post application already accepted and not yet batched:
--     used + pending < amount
-- decided under an advisory lock, so that two submissions can never both
-- take the last delivery, and in the same transaction as the INSERT.  Else
-- nothing is stored and the answer is 'budget_exhausted' with the office the
-- document could be picked up at.  No period for p_today (a database the
-- scheduler has not yet run against): no limit is known, post is taken.
CREATE FUNCTION application_submit(
        p_code text, p_service text, p_nik text, p_kk text, p_name text,
        p_phone text, p_method text, p_office text, p_street text,
        p_rt text, p_rw text, p_kelurahan text, p_kecamatan_written text,
        p_postal_code text, p_kecamatan_code text,
        p_needs_confirmation boolean, p_today date,
        OUT outcome text, OUT suggested_office text)
LANGUAGE plpgsql AS $$
DECLARE
    budget  delivery_period%ROWTYPE;
    spent   record;
    app_id  bigint;
BEGIN
    IF p_method = 'post' THEN
        PERFORM pg_advisory_xact_lock(7310012);
        SELECT * INTO budget FROM delivery_period p
         WHERE p_today BETWEEN p.starts AND p.ends;
        IF FOUND THEN
            -- a statement after the lock: its snapshot holds every
            -- submission that held the lock before
            SELECT * INTO spent FROM delivery_budget_of(budget.starts,
                                                        budget.ends);
            IF spent.used + spent.pending >= budget.amount THEN
                outcome := 'budget_exhausted';
                suggested_office := pickup_office_of(p_kecamatan_code);
                RETURN;
            END IF;
        END IF;
    END IF;

    INSERT INTO application (code, service, nik, kk, name, phone,
                             delivery_method, pickup_office, street, rt, rw,
                             kelurahan, kecamatan_written, postal_code,
                             kecamatan_code, kecamatan_needs_confirmation)
    VALUES (p_code, p_service, p_nik, p_kk, p_name, p_phone, p_method,
            p_office, p_street, p_rt, p_rw, p_kelurahan, p_kecamatan_written,
            p_postal_code, p_kecamatan_code, p_needs_confirmation)
    RETURNING id INTO app_id;

    INSERT INTO application_history (application_id, to_status, actor)
    VALUES (app_id, 'submitted', 'citizen');

    outcome := 'ok';
END
$$;

-- Who takes a step; notes that are no step ---------------------------------------

-- kind: 'office', a step an operator takes (the scheduler and the courier's
-- import may too); 'delivery', a step of the delivery that only the
-- delivery-batch and the courier's import take: an operator's hand would
-- leave a document without its delivery row, outside the budget, and the
-- next courier file refused; 'note', no step: a change the citizen is told
-- of while the status stays (an address confirmed, a way of receiving
-- changed, a failed delivery), written only by the functions below.
ALTER TABLE application_transition
    ADD COLUMN kind text NOT NULL DEFAULT 'office'
    CHECK (kind IN ('office', 'delivery', 'note'));

UPDATE application_transition SET kind = 'delivery'
 WHERE (from_status, to_status) IN (
        ('completed', 'batched'), ('batched', 'in_transit'),
        ('batched', 'delivered'), ('batched', 'returned'),
        ('in_transit', 'delivered'), ('in_transit', 'returned'),
        ('returned', 'awaiting_pickup'));

INSERT INTO application_transition (from_status, to_status, delivery_method,
                                    kind)
VALUES
    ('submitted',  'submitted',  NULL,   'note'),
    ('verified',   'verified',   NULL,   'note'),
    ('processing', 'processing', NULL,   'note'),
    ('completed',  'completed',  NULL,   'note'),
    ('in_transit', 'in_transit', 'post', 'note');

ALTER TABLE application_transition
    ADD CONSTRAINT application_transition_note_stays
    CHECK ((kind = 'note') = (from_status = to_status));

-- The first history row is still the submission; a row (submitted,
-- submitted) is now a note, which the foreign key to application_transition
-- allows.
ALTER TABLE application_history DROP CONSTRAINT application_history_check;
ALTER TABLE application_history
    ADD CONSTRAINT application_history_first_is_submission
    CHECK (from_status IS NOT NULL OR to_status = 'submitted');

-- 001's function, which never takes a note for a step.
CREATE OR REPLACE FUNCTION application_transition(p_code text, p_to text,
                                                  p_actor text, p_note text,
                                                  OUT outcome text,
                                                  OUT status text)
LANGUAGE plpgsql AS $$
DECLARE
    app application%ROWTYPE;
BEGIN
    SELECT * INTO app FROM application a WHERE a.code = p_code FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;

    status := app.status;

    PERFORM 1 FROM application_transition t
     WHERE t.from_status = app.status AND t.to_status = p_to
       AND t.kind <> 'note'
       AND (t.delivery_method IS NULL
            OR t.delivery_method = app.delivery_method);
    IF NOT FOUND THEN
        outcome := 'conflict';
        RETURN;
    END IF;

    UPDATE application a
       SET status = p_to, updated_at = now(),
           completed_at = CASE WHEN p_to = 'completed' THEN now()
                               ELSE a.completed_at END
     WHERE a.id = app.id;

    INSERT INTO application_history (application_id, from_status, to_status,
                                     actor, note)
    VALUES (app.id, app.status, p_to, p_actor, p_note);

    outcome := 'ok';
    status := p_to;
END
$$;

-- 004's function, likewise.
CREATE OR REPLACE FUNCTION application_transition_many(p_ids bigint[],
                                                       p_to text,
                                                       p_actor text,
                                                       p_note text,
                                                       OUT moved integer,
                                                       OUT refused bigint[])
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM application a
     WHERE a.id = ANY (p_ids)
     ORDER BY a.id
       FOR UPDATE;

    WITH step AS (
        UPDATE application a
           SET status = p_to, updated_at = now(),
               completed_at = CASE WHEN p_to = 'completed' THEN now()
                                   ELSE a.completed_at END
          FROM application_transition t
         WHERE a.id = ANY (p_ids)
           AND t.from_status = a.status AND t.to_status = p_to
           AND t.kind <> 'note'
           AND (t.delivery_method IS NULL
                OR t.delivery_method = a.delivery_method)
        RETURNING a.id, t.from_status
    ), history AS (
        INSERT INTO application_history (application_id, from_status,
                                         to_status, actor, note)
        SELECT s.id, s.from_status, p_to, p_actor, p_note
          FROM step s ORDER BY s.id
        RETURNING application_id
    )
    SELECT (SELECT count(*) FROM history),
           (SELECT array_agg(DISTINCT i ORDER BY i) FROM unnest(p_ids) i
             WHERE NOT EXISTS (SELECT 1 FROM history h
                                WHERE h.application_id = i))
      INTO moved, refused;
END
$$;

-- A note in the history of an application that stays in its status; NULL,
-- or why it cannot be written.  The caller holds the row lock.
CREATE FUNCTION application_note(p_id bigint, p_actor text, p_note text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    app application%ROWTYPE;
BEGIN
    SELECT * INTO app FROM application a WHERE a.id = p_id FOR UPDATE;
    PERFORM 1 FROM application_transition t
     WHERE t.from_status = app.status AND t.to_status = app.status
       AND t.kind = 'note'
       AND (t.delivery_method IS NULL
            OR t.delivery_method = app.delivery_method);
    IF NOT FOUND THEN
        RETURN format('application is %s: no note is written there',
                      app.status);
    END IF;
    UPDATE application a SET updated_at = now() WHERE a.id = p_id;
    INSERT INTO application_history (application_id, from_status, to_status,
                                     actor, note)
    VALUES (p_id, app.status, app.status, p_actor, left(p_note, 1000));
    RETURN NULL;
END
$$;

-- The operators' step: application_transition() for the steps that are the
-- office's.  'reserved' when the step is the delivery's (every step into
-- batched, in_transit, delivered or returned, and the awaiting_pickup after
-- a return); set_by names who takes it: 'scheduler' (the delivery-batch) or
-- 'courier' (the import of PT Pos's results).
CREATE FUNCTION application_transition_by_office(p_code text, p_to text,
                                                 p_actor text, p_note text,
                                                 OUT outcome text,
                                                 OUT status text,
                                                 OUT set_by text)
LANGUAGE plpgsql AS $$
DECLARE
    cur     text;
    step    record;
BEGIN
    SELECT a.status INTO cur FROM application a WHERE a.code = p_code
       FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;

    PERFORM 1 FROM application_transition t
     WHERE t.to_status = p_to AND t.kind = 'delivery'
       AND (t.from_status = cur
            OR NOT EXISTS (SELECT 1 FROM application_transition o
                            WHERE o.to_status = p_to
                              AND o.kind = 'office'));
    IF FOUND THEN
        outcome := 'reserved';
        status := cur;
        set_by := CASE p_to WHEN 'batched' THEN 'scheduler'
                            ELSE 'courier' END;
        RETURN;
    END IF;

    SELECT * INTO step FROM application_transition(p_code, p_to, p_actor,
                                                    p_note);
    outcome := step.outcome;
    status := step.status;
END
$$;

-- Documents that are not delivered ----------------------------------------------

-- The sentence a citizen reads about where to collect a document.
CREATE FUNCTION pickup_sentence(p_office text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('Silakan ambil dokumen Anda di %s. Bawa KTP-el dan kode '
                  'permohonan.', (SELECT o.name FROM office o
                                   WHERE o.code = p_office))
$$;

-- A post application whose document comes back (a return, or max_attempts
-- failed deliveries) awaits pickup at the office of its kecamatan: returned
-- -> awaiting_pickup, as p_actor.  NULL, or why not.
CREATE FUNCTION delivery_await_pickup(p_id bigint, p_actor text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    app     application%ROWTYPE;
    office  text;
    step    record;
BEGIN
    SELECT * INTO app FROM application a WHERE a.id = p_id FOR UPDATE;
    office := COALESCE(app.pickup_office, pickup_office_of(app.kecamatan_code));
    UPDATE application a SET pickup_office = office WHERE a.id = p_id;
    SELECT * INTO step FROM application_transition(app.code,
                                                    'awaiting_pickup',
                                                    p_actor,
                                                    pickup_sentence(office));
    IF step.outcome = 'ok' THEN
        RETURN NULL;
    END IF;
    RETURN format('application is %s, cannot become awaiting_pickup',
                  step.status);
END
$$;

-- Post applications completed before p_before and still not batched (the
-- budget was spent, the night's cap never reached them, or no one confirmed
-- their kecamatan) are to be picked up at the office of their kecamatan
-- instead: the way of receiving becomes pickup and the status
-- awaiting_pickup, with a note that says why.  p_budget_left: what the
-- period has left after tonight's batches.  Answers how many moved.
CREATE FUNCTION delivery_overdue_to_pickup(p_before timestamptz,
                                           p_budget_left bigint,
                                           p_actor text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    app     record;
    office  text;
    why     text;
    n       integer := 0;
BEGIN
    FOR app IN SELECT a.id, a.code, a.kecamatan_code FROM application a
                WHERE a.status = 'completed' AND a.delivery_method = 'post'
                  AND a.completed_at < p_before
                ORDER BY a.id
                  FOR UPDATE LOOP
        office := pickup_office_of(app.kecamatan_code);
        why := CASE
            WHEN app.kecamatan_code IS NULL THEN
                'Kecamatan alamat Anda belum dapat dipastikan, sehingga '
                'dokumen tidak dapat dikirim melalui PT Pos.'
            WHEN p_budget_left <= 0 THEN
                'Anggaran pengiriman dokumen melalui PT Pos untuk periode ini '
                'sudah habis.'
            ELSE
                'Dokumen Anda belum dapat dikirim melalui PT Pos.'
            END;
        UPDATE application a
           SET delivery_method = 'pickup', pickup_office = office
         WHERE a.id = app.id;
        PERFORM application_transition(app.code, 'awaiting_pickup', p_actor,
                                       why || ' ' || pickup_sentence(office));
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- An operator settles the address of a post application not yet batched:
-- the kecamatan confirmed (p_kecamatan_code: the delivery-batch takes it from
-- the next night on), or a switch to pickup at p_office (a completed document
-- then awaits pickup at once).  Recorded in the history with the operator.
-- outcome: 'ok', 'not_found', or 'closed' (not by post, or batched already,
-- or rejected): the status and the way of receiving found are answered.
CREATE FUNCTION application_address_settle(p_code text,
                                           p_kecamatan_code text,
                                           p_office text, p_actor text,
                                           OUT outcome text,
                                           OUT status text,
                                           OUT method text,
                                           OUT kecamatan text,
                                           OUT office text)
LANGUAGE plpgsql AS $$
DECLARE
    app     application%ROWTYPE;
    err     text;
BEGIN
    SELECT * INTO app FROM application a WHERE a.code = p_code FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;

    status := app.status;
    method := app.delivery_method;
    IF app.delivery_method <> 'post'
       OR app.status NOT IN ('submitted', 'verified', 'processing',
                             'completed') THEN
        outcome := 'closed';
        RETURN;
    END IF;

    IF p_kecamatan_code IS NOT NULL THEN
        SELECT k.name INTO kecamatan FROM kecamatan k
         WHERE k.code = p_kecamatan_code;
        UPDATE application a
           SET kecamatan_code = p_kecamatan_code,
               kecamatan_needs_confirmation = false
         WHERE a.id = app.id;
        err := application_note(app.id, p_actor,
                   format('Kecamatan alamat pengiriman dipastikan oleh '
                          'petugas: %s.', kecamatan));
    ELSE
        office := p_office;
        method := 'pickup';
        UPDATE application a
           SET delivery_method = 'pickup', pickup_office = p_office
         WHERE a.id = app.id;
        IF app.status = 'completed' THEN
            PERFORM application_transition(p_code, 'awaiting_pickup', p_actor,
                'Dokumen tidak dikirim melalui PT Pos. '
                || pickup_sentence(p_office));
            status := 'awaiting_pickup';
        ELSE
            err := application_note(app.id, p_actor,
                       format('Dokumen tidak dikirim melalui PT Pos, tetapi '
                              'diambil di %s setelah selesai.',
                              (SELECT o.name FROM office o
                                WHERE o.code = p_office)));
        END IF;
    END IF;
    IF err IS NOT NULL THEN
        RAISE EXCEPTION 'application_address_settle: %', err;
    END IF;
    outcome := 'ok';
END
$$;

-- The courier's results, with max_attempts ---------------------------------------

DROP FUNCTION delivery_import_apply(bigint);

-- 003's delivery_import_apply() with every history note in Indonesian, a
-- failed delivery a note the citizen reads, and no document left without an
-- office: after a return, or after p_max_attempts failed deliveries (the
-- courier gives up: the delivery is returned), the application awaits
-- pickup at the office of its kecamatan (delivery_await_pickup).  A failed
-- or returned line for a delivery given up that way changes nothing: the
-- courier's file says what we decided.
--
-- delivery:     batched -> in_transit -> delivered | returned
-- application:  batched -> in_transit -> delivered
--                                     -> returned -> awaiting_pickup
CREATE FUNCTION delivery_import_apply(p_import bigint,
                                      p_max_attempts integer,
                                      OUT bad_line integer, OUT reason text)
RETURNS SETOF record
LANGUAGE plpgsql AS $$
DECLARE
    r           record;
    d           record;
    err         text;
    said        text;
    attempt     integer;
    new_status  text;
    n_applied   integer := 0;
    n_ignored   integer := 0;
BEGIN
    FOR r IN SELECT * FROM pg_temp.import_line ORDER BY at, line LOOP
        SELECT dl.*, a.status AS app_status INTO d
          FROM delivery dl JOIN application a ON a.id = dl.application_id
         WHERE a.code = r.tracking_code
           FOR UPDATE OF dl;
        IF NOT FOUND THEN
            bad_line := r.line;
            reason := 'unknown tracking_code: no delivery for it';
            RETURN NEXT;
            CONTINUE;
        END IF;

        IF EXISTS (SELECT 1 FROM delivery_event e
                    WHERE e.delivery_id = d.id AND e.status = r.status
                      AND e.at = r.at)
           OR r.at < d.last_event_at
           OR (d.status = 'returned' AND d.attempts >= p_max_attempts
               AND r.status IN ('failed', 'returned')) THEN
            n_ignored := n_ignored + 1;
            CONTINUE;
        END IF;

        IF d.status NOT IN ('batched', 'in_transit') THEN
            bad_line := r.line;
            reason := format('delivery is already %s', d.status);
            RETURN NEXT;
            CONTINUE;
        END IF;

        said := CASE WHEN COALESCE(r.note, '') = '' THEN ''
                     ELSE ' Catatan PT Pos: ' || r.note END;
        err := NULL;
        attempt := d.attempts;
        new_status := r.status;

        IF r.status = 'in_transit' THEN
            IF d.app_status = 'batched' THEN
                err := delivery_import_step(r.tracking_code, 'in_transit',
                    left(format('Dokumen Anda sedang diantar oleh PT Pos, '
                                'nomor resi %s.', r.resi) || said, 1000));
            END IF;

        ELSIF r.status = 'failed' THEN
            attempt := attempt + 1;
            new_status := 'in_transit';
            said := left(format('Pengantaran ke-%s oleh PT Pos gagal.',
                                attempt)
                         || CASE WHEN attempt < p_max_attempts
                                 THEN ' PT Pos akan mengantar lagi.'
                                 ELSE '' END
                         || said, 1000);
            IF d.app_status = 'batched' THEN
                err := delivery_import_step(r.tracking_code, 'in_transit',
                                            said);
            ELSE
                err := application_note(d.application_id, 'pos-indonesia',
                                        said);
            END IF;
            IF err IS NULL AND attempt >= p_max_attempts THEN
                new_status := 'returned';
                err := delivery_import_step(r.tracking_code, 'returned',
                    format('Dokumen tidak dapat diantar setelah %s kali '
                           'percobaan dan dikembalikan ke Disdukcapil.',
                           attempt));
                IF err IS NULL THEN
                    err := delivery_await_pickup(d.application_id,
                                                 'pos-indonesia');
                END IF;
            END IF;

        ELSIF r.status = 'delivered' THEN
            err := delivery_import_step(r.tracking_code, 'delivered',
                left('Dokumen Anda sudah diterima'
                     || CASE WHEN COALESCE(r.receiver, '') = '' THEN '.'
                             ELSE ' oleh ' || r.receiver || '.' END
                     || said, 1000));

        ELSE    -- returned
            err := delivery_import_step(r.tracking_code, 'returned',
                left('Dokumen dikembalikan oleh PT Pos ke Disdukcapil.'
                     || said, 1000));
            IF err IS NULL THEN
                err := delivery_await_pickup(d.application_id,
                                             'pos-indonesia');
            END IF;
        END IF;

        IF err IS NOT NULL THEN
            bad_line := r.line;
            reason := err;
            RETURN NEXT;
            CONTINUE;
        END IF;

        UPDATE delivery
           SET status = new_status,
               attempts = attempt,
               resi = r.resi,
               receiver = CASE r.status WHEN 'delivered' THEN r.receiver
                                        ELSE receiver END,
               last_event_at = r.at,
               updated_at = now()
         WHERE id = d.id;

        INSERT INTO delivery_event (delivery_id, import_id, line, status, at,
                                    resi, receiver, note)
        VALUES (d.id, p_import, r.line, r.status, r.at, r.resi, r.receiver,
                r.note);
        n_applied := n_applied + 1;
    END LOOP;

    UPDATE delivery_import
       SET lines = n_applied + n_ignored, applied = n_applied,
           ignored = n_ignored
     WHERE id = p_import;
END
$$;

-- What is already there ---------------------------------------------------------

-- A document returned before this migration waits at the office of its
-- kecamatan like any returned after it.
UPDATE application a SET pickup_office = pickup_office_of(a.kecamatan_code)
 WHERE a.status IN ('returned', 'awaiting_pickup', 'picked_up')
   AND a.delivery_method = 'post' AND a.pickup_office IS NULL;

-- The two notes the system wrote in English, as the citizen now reads them:
-- the same step, actor and time, the same fact in Indonesian.
UPDATE application_history h
   SET note = 'Dokumen dikembalikan oleh PT Pos ke Disdukcapil. '
              || pickup_sentence(a.pickup_office)
  FROM application a
 WHERE a.id = h.application_id AND h.actor = 'pos-indonesia'
   AND h.note = 'returned by the courier';

UPDATE application_history h
   SET note = 'Dokumen Anda masuk daftar kiriman PT Pos (manifes '
              || substr(h.note, length('delivery batch ') + 1) || ').'
 WHERE h.actor = 'scheduler' AND h.note LIKE 'delivery batch %';
