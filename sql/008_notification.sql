-- The outbox of the citizens' messages (SPEC.md "Notifications"): a row is
-- written in the same transaction as the event it tells, so a message exists
-- exactly when its event committed; the daemon sends it (at least once, the
-- row's id as the gateway's idempotency key) and records how it went.
--
-- params holds what the kind's template needs (a code, a date, an office, a
-- queue number, a receipt number, a reason), never a NIK or a KK number; an
-- OTP's params (its code) are erased once it is sent.

CREATE TABLE notification (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL
                    CHECK (kind IN ('otp', 'appointment_booked',
                                    'appointment_cancelled',
                                    'appointment_cancelled_by_office',
                                    'appointment_reminder',
                                    'application_submitted',
                                    'application_rejected',
                                    'application_ready',
                                    'application_shipped',
                                    'delivery_delivered', 'delivery_failed')),
    phone           phone_e164 NOT NULL,
    params          jsonb NOT NULL DEFAULT '{}'
                    CHECK (jsonb_typeof(params) = 'object'),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'failed')),
    channel         text CHECK (channel IN ('whatsapp', 'sms', 'file')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    appointment_id  bigint REFERENCES appointment ON DELETE SET NULL,
    application_id  bigint REFERENCES application ON DELETE SET NULL,

    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- what the sender claims next (FOR UPDATE SKIP LOCKED), oldest first
CREATE INDEX notification_queued ON notification (next_attempt_at, id)
    WHERE status = 'queued';

-- retention: rows past it are deleted by created_at
CREATE INDEX notification_created ON notification (created_at);

-- the sender is woken at once (LISTEN dk_notification), and polls besides
CREATE FUNCTION notification_wake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dk_notification', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER notification_wake AFTER INSERT ON notification
    FOR EACH STATEMENT EXECUTE FUNCTION notification_wake();
