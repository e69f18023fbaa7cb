-- 003: the nightly scheduler: its runs, delivery batches within the budget,
-- and the courier's results.

-- Every run of a job.  A scheduled slot is a row claimed once: UNIQUE (job,
-- slot) is what makes two daemons on two machines run it exactly once.
-- Runs asked for by hand (slot NULL) never conflict with each other; the
-- advisory lock the run holds keeps them from overlapping.
CREATE TABLE scheduler_run (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text NOT NULL
                CHECK (job IN ('delivery-batch', 'reconcile', 'import-delivery')),
    slot        timestamptz,
    reason      text NOT NULL
                CHECK (reason IN ('slot', 'once', 'epoch_missing', 'import')),
    outcome     text NOT NULL DEFAULT 'running'
                CHECK (outcome IN ('running', 'ok', 'failed', 'interrupted')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    attempts    integer NOT NULL DEFAULT 1 CHECK (attempts > 0),
    counts      jsonb NOT NULL DEFAULT '{}',
    error       text,
    host        text NOT NULL,
    pid         integer NOT NULL,

    UNIQUE (job, slot),
    CHECK ((outcome = 'running') = (finished_at IS NULL)),
    CHECK (slot IS NULL OR reason = 'slot')
);

CREATE INDEX scheduler_run_running ON scheduler_run (job)
    WHERE outcome = 'running';

-- One courier manifest.  Its code is the manifest's batch_id and the file's
-- name: the WIB night, the kecamatan and a sequence number, so that a
-- manifest written again from these rows is the same file byte for byte.
CREATE TABLE delivery_batch (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                text NOT NULL UNIQUE
                        CHECK (code ~ '^[0-9]{8}-[0-9]{6}-[0-9]{3,}$'),
    run_id              bigint NOT NULL REFERENCES scheduler_run,
    night               date NOT NULL,
    kecamatan_code      text NOT NULL REFERENCES kecamatan,
    seq                 integer NOT NULL CHECK (seq > 0),
    budget_period       text NOT NULL CHECK (length(budget_period) BETWEEN 1 AND 32),
    item_count          integer NOT NULL CHECK (item_count > 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    manifest_written_at timestamptz,

    UNIQUE (night, kecamatan_code, seq)
);

CREATE INDEX delivery_batch_by_period ON delivery_batch (budget_period);

-- One document on its way home.  UNIQUE (application_id): no application is
-- ever batched twice, whatever the code does.
CREATE TABLE delivery (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  bigint NOT NULL UNIQUE REFERENCES application,
    batch_id        bigint NOT NULL REFERENCES delivery_batch,
    line            integer NOT NULL CHECK (line > 0),
    status          text NOT NULL DEFAULT 'batched'
                    CHECK (status IN ('batched', 'in_transit', 'delivered',
                                      'returned')),
    resi            text CHECK (length(resi) BETWEEN 1 AND 64),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    receiver        text CHECK (length(receiver) <= 200),
    last_event_at   timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),

    UNIQUE (batch_id, line)
);

CREATE INDEX delivery_by_batch ON delivery (batch_id, line);

-- One accepted file of the courier's results; the same bytes are never
-- imported twice.
CREATE TABLE delivery_import (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint REFERENCES scheduler_run,
    file_name   text NOT NULL,
    sha256      text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    lines       integer NOT NULL DEFAULT 0 CHECK (lines >= 0),
    applied     integer NOT NULL DEFAULT 0 CHECK (applied >= 0),
    ignored     integer NOT NULL DEFAULT 0 CHECK (ignored >= 0),
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- One courier event applied to a delivery.  The same event (delivery,
-- status, time) is applied once, whichever file brings it again.
CREATE TABLE delivery_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES delivery,
    import_id   bigint NOT NULL REFERENCES delivery_import,
    line        integer NOT NULL CHECK (line > 1),
    status      text NOT NULL
                CHECK (status IN ('in_transit', 'delivered', 'failed',
                                  'returned')),
    at          timestamptz NOT NULL,
    resi        text NOT NULL CHECK (length(resi) BETWEEN 1 AND 64),
    receiver    text CHECK (length(receiver) <= 200),
    note        text CHECK (length(note) <= 1000),

    UNIQUE (delivery_id, status, at)
);

-- The lines of a courier file, validated for shape by the scheduler and
-- loaded with COPY into a temporary table of this shape.
CREATE TABLE delivery_import_line (
    line            integer NOT NULL,
    tracking_code   text NOT NULL,
    resi            text NOT NULL,
    status          text NOT NULL,
    at              timestamptz NOT NULL,
    receiver        text,
    note            text
);

-- Moves the application one step through application_transition(), as the
-- courier; a refused step is the line's fault.
CREATE FUNCTION delivery_import_step(p_code text, p_to text, p_note text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    SELECT * INTO t FROM application_transition(p_code, p_to, 'pos-indonesia',
                                                p_note);
    IF t.outcome = 'ok' THEN
        RETURN NULL;
    END IF;
    RETURN format('application is %s, cannot become %s', t.status, p_to);
END
$$;

-- Applies the lines of pg_temp.import_line (a copy of delivery_import_line)
-- in time order as import p_import, and answers every line that cannot be
-- applied with the reason.  The caller rolls back when any comes back: a file
-- is applied whole or not at all.
--
-- delivery:     batched -> in_transit -> delivered | returned
-- application:  batched -> in_transit -> delivered | returned -> awaiting_pickup
-- 'failed' is an attempt that did not deliver: the courier keeps the parcel.
-- An event already applied, or older than the delivery's last one, is
-- ignored: files may overlap and come out of order.
CREATE FUNCTION delivery_import_apply(p_import bigint,
                                      OUT bad_line integer, OUT reason text)
RETURNS SETOF record
LANGUAGE plpgsql AS $$
DECLARE
    r   record;
    d   record;
    err text;
    n_applied integer := 0;
    n_ignored integer := 0;
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
           OR r.at < d.last_event_at THEN
            n_ignored := n_ignored + 1;
            CONTINUE;
        END IF;

        IF d.status NOT IN ('batched', 'in_transit') THEN
            bad_line := r.line;
            reason := format('delivery is already %s', d.status);
            RETURN NEXT;
            CONTINUE;
        END IF;

        err := NULL;
        IF d.app_status = 'batched' AND r.status IN ('in_transit', 'failed') THEN
            err := delivery_import_step(r.tracking_code, 'in_transit', r.note);
        ELSIF r.status IN ('delivered', 'returned') THEN
            err := delivery_import_step(r.tracking_code, r.status, r.note);
            IF err IS NULL AND r.status = 'returned' THEN
                err := delivery_import_step(r.tracking_code, 'awaiting_pickup',
                                            'returned by the courier');
            END IF;
        END IF;
        IF err IS NOT NULL THEN
            bad_line := r.line;
            reason := err;
            RETURN NEXT;
            CONTINUE;
        END IF;

        UPDATE delivery
           SET status = CASE r.status WHEN 'failed' THEN 'in_transit'
                                      ELSE r.status END,
               attempts = attempts + (r.status = 'failed')::int,
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
