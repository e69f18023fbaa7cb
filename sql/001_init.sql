-- 001: reference data, appointments, applications and their audit trail.
--
-- The constraints say what must never happen, so that the database refuses
-- what the code forgets.  Applied by migrate.sh inside one transaction.

CREATE TABLE office (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

CREATE TABLE service (
    code        text PRIMARY KEY
                CHECK (code IN ('ktp', 'kk', 'akta_lahir', 'akta_mati', 'kia',
                                'pindah', 'ambil')),
    name        text NOT NULL
);

INSERT INTO service (code, name) VALUES
    ('ktp',        'KTP-el'),
    ('kk',         'Kartu Keluarga'),
    ('akta_lahir', 'Akta Kelahiran'),
    ('akta_mati',  'Akta Kematian'),
    ('kia',        'Kartu Identitas Anak'),
    ('pindah',     'Surat Pindah (SKPWNI)'),
    ('ambil',      'Pengambilan Dokumen');

-- The MPP counter and the UPT office of each kecamatan.  nginx.conf names the
-- offices that take bookings; every one of them must be a row here.
INSERT INTO office (code, name) VALUES
    ('mpp',            'Mal Pelayanan Publik Pekanbaru'),
    ('sukajadi',       'UPT Disdukcapil Kecamatan Sukajadi'),
    ('pekanbaru_kota', 'UPT Disdukcapil Kecamatan Pekanbaru Kota'),
    ('sail',           'UPT Disdukcapil Kecamatan Sail'),
    ('limapuluh',      'UPT Disdukcapil Kecamatan Limapuluh'),
    ('senapelan',      'UPT Disdukcapil Kecamatan Senapelan'),
    ('rumbai_barat',   'UPT Disdukcapil Kecamatan Rumbai Barat'),
    ('bukit_raya',     'UPT Disdukcapil Kecamatan Bukit Raya'),
    ('binawidya',      'UPT Disdukcapil Kecamatan Binawidya'),
    ('marpoyan_damai', 'UPT Disdukcapil Kecamatan Marpoyan Damai'),
    ('tenayan_raya',   'UPT Disdukcapil Kecamatan Tenayan Raya'),
    ('payung_sekaki',  'UPT Disdukcapil Kecamatan Payung Sekaki'),
    ('rumbai',         'UPT Disdukcapil Kecamatan Rumbai'),
    ('tuah_madani',    'UPT Disdukcapil Kecamatan Tuah Madani'),
    ('kulim',          'UPT Disdukcapil Kecamatan Kulim'),
    ('rumbai_timur',   'UPT Disdukcapil Kecamatan Rumbai Timur');

CREATE DOMAIN nik AS text CHECK (VALUE ~ '^[0-9]{16}$');
CREATE DOMAIN phone_e164 AS text CHECK (VALUE ~ '^\+628[0-9]{8,11}$');
CREATE DOMAIN person_name AS text
    CHECK (length(VALUE) BETWEEN 1 AND 100 AND VALUE !~ '[[:cntrl:]]');

-- Appointments -------------------------------------------------------------

CREATE TABLE appointment (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE
                    CHECK (code ~ '^A-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$'),
    nik             nik NOT NULL,
    name            person_name NOT NULL,
    phone           phone_e164 NOT NULL,
    office          text NOT NULL REFERENCES office,
    service         text NOT NULL REFERENCES service,
    date            date NOT NULL,
    queue_number    integer NOT NULL CHECK (queue_number > 0),
    status          text NOT NULL DEFAULT 'booked'
                    CHECK (status IN ('booked', 'cancelled', 'checked_in',
                                      'no_show')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz,
    checked_in_at   timestamptz,
    checked_in_by   text,

    -- a queue number is never handed out twice, even after a cancellation
    UNIQUE (office, service, date, queue_number),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    CHECK ((status = 'checked_in') = (checked_in_at IS NOT NULL))
);

-- one active appointment per NIK and date, whatever the office
CREATE UNIQUE INDEX appointment_one_active_per_nik_date
    ON appointment (nik, date) WHERE status IN ('booked', 'checked_in');

CREATE INDEX appointment_by_day ON appointment (date, office, service);

-- An operator's quota for one (office, service, date); absent = nginx default.
CREATE TABLE quota_override (
    office      text NOT NULL REFERENCES office,
    service     text NOT NULL REFERENCES service,
    date        date NOT NULL,
    quota       integer NOT NULL CHECK (quota BETWEEN 0 AND 100000),
    set_by      text NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office, service, date)
);

-- Applications ---------------------------------------------------------------

CREATE TABLE application_status (
    status      text PRIMARY KEY
);

INSERT INTO application_status (status) VALUES
    ('submitted'), ('verified'), ('processing'), ('completed'), ('rejected'),
    ('batched'), ('in_transit'), ('delivered'), ('returned'),
    ('awaiting_pickup'), ('picked_up');

-- The life cycle of SPEC.md, as data: a history row can only record a step
-- that is a row here, so no code path can invent one.
CREATE TABLE application_transition (
    from_status     text NOT NULL REFERENCES application_status,
    to_status       text NOT NULL REFERENCES application_status,
    delivery_method text CHECK (delivery_method IN ('pickup', 'post')),
    PRIMARY KEY (from_status, to_status)
);

INSERT INTO application_transition (from_status, to_status, delivery_method)
VALUES
    ('submitted',  'verified',        NULL),
    ('verified',   'processing',      NULL),
    ('processing', 'completed',       NULL),
    ('submitted',  'rejected',        NULL),
    ('verified',   'rejected',        NULL),
    ('processing', 'rejected',        NULL),
    ('completed',  'batched',         'post'),
    ('batched',    'in_transit',      'post'),
    ('batched',    'delivered',       'post'),
    ('batched',    'returned',        'post'),
    ('in_transit', 'delivered',       'post'),
    ('in_transit', 'returned',        'post'),
    ('returned',   'awaiting_pickup', 'post'),
    ('completed',  'awaiting_pickup', 'pickup'),
    ('awaiting_pickup', 'picked_up',  NULL);

CREATE TABLE application (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE
                    CHECK (code ~ '^P-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$'),
    service         text NOT NULL REFERENCES service,
    nik             nik NOT NULL,
    kk              text NOT NULL CHECK (kk ~ '^[0-9]{16}$'),
    name            person_name NOT NULL,
    phone           phone_e164 NOT NULL,
    status          text NOT NULL DEFAULT 'submitted'
                    REFERENCES application_status,
    delivery_method text NOT NULL CHECK (delivery_method IN ('pickup', 'post')),
    pickup_office   text REFERENCES office,

    -- the address as the citizen wrote it ...
    street          text CHECK (length(street) BETWEEN 1 AND 200),
    rt              text CHECK (rt ~ '^[0-9]{3}$'),
    rw              text CHECK (rw ~ '^[0-9]{3}$'),
    kelurahan       text CHECK (length(kelurahan) BETWEEN 1 AND 100),
    kecamatan_written text CHECK (length(kecamatan_written) BETWEEN 1 AND 100),
    postal_code     text CHECK (postal_code ~ '^[0-9]{5}$'
                                AND postal_code::int BETWEEN 28111 AND 28299),
    -- ... and the current kecamatan it maps to (NULL until an operator
    -- confirms an old name that neither kelurahan nor postal code decides)
    kecamatan_code  text,
    kecamatan_needs_confirmation boolean NOT NULL DEFAULT false,

    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,

    CHECK (delivery_method <> 'pickup' OR pickup_office IS NOT NULL),
    CHECK (delivery_method <> 'post'
           OR (street IS NOT NULL AND rt IS NOT NULL AND rw IS NOT NULL
               AND kelurahan IS NOT NULL AND kecamatan_written IS NOT NULL
               AND postal_code IS NOT NULL)),
    CHECK (kecamatan_needs_confirmation OR delivery_method <> 'post'
           OR kecamatan_code IS NOT NULL)
);

CREATE INDEX application_completed_post
    ON application (completed_at) WHERE status = 'completed'
                                    AND delivery_method = 'post';

CREATE TABLE application_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  bigint NOT NULL REFERENCES application ON DELETE CASCADE,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    from_status     text,
    to_status       text NOT NULL REFERENCES application_status,
    actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 100),
    note            text CHECK (length(note) <= 1000),

    -- the first row is the submission; every later one a legal step
    CHECK ((from_status IS NULL) = (to_status = 'submitted')),
    FOREIGN KEY (from_status, to_status) REFERENCES application_transition
);

CREATE INDEX application_history_of ON application_history (application_id, id);

-- Moves one application one step, serialised by the row lock, with its
-- history row in the same statement's transaction.  Answers the outcome and
-- the status found: 'ok', 'not_found', or 'conflict' (the step is not
-- allowed from the status the application is in now).
CREATE FUNCTION application_transition(p_code text, p_to text, p_actor text,
                                       p_note text,
                                       OUT outcome text, OUT status text)
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
