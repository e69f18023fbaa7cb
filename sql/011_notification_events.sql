-- 011: each event a citizen must hear writes its notification row in the
-- transaction of the event (SPEC.md "Notifications"), by a trigger on the
-- table the event changes, so that no path that changes it can forget (the
-- booking's own row is the exception below): a booking committed after its
-- citizen heard 503 still reaches their phone with its code, and a booking
-- rolled back sends nothing.
--
-- The params are what the kind's template in the daemon's YAML names: codes,
-- a date, names of offices and services, a queue number, a reason, a PT Pos
-- receipt number; never a NIK or a KK number.

-- Appointments ------------------------------------------------------------------

-- A booking's row is written by the module's INSERT statement, which writes
-- its 'appointment_booked' in the same statement (ngx_http_dukcapil_sql.c):
-- on the rush's path, a row trigger would cost as much as the INSERT itself.
-- A cancellation, by its citizen (the module) or by the office (a closure),
-- is told by this trigger, whoever writes it.
CREATE FUNCTION notification_of_cancellation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notification (kind, phone, appointment_id, params)
    VALUES (CASE NEW.status WHEN 'cancelled' THEN 'appointment_cancelled'
                            ELSE 'appointment_cancelled_by_office' END,
            NEW.phone, NEW.id,
            jsonb_strip_nulls(jsonb_build_object(
                'code', NEW.code,
                'date', to_char(NEW.date, 'YYYY-MM-DD'),
                'office_name', (SELECT o.name FROM office o
                                 WHERE o.code = NEW.office),
                'reason', NEW.cancel_reason)));
    RETURN NULL;
END
$$;

CREATE TRIGGER appointment_cancelled_notification
    AFTER UPDATE OF status ON appointment
    FOR EACH ROW
    WHEN (OLD.status = 'booked'
          AND NEW.status IN ('cancelled', 'cancelled_by_office'))
    EXECUTE FUNCTION notification_of_cancellation();

-- Applications ------------------------------------------------------------------

-- Every step of an application is a row of its history, whoever takes it (an
-- operator, the delivery-batch, the courier's import, the move to pickup).
-- Deferred to the commit, so that what the same transaction writes after the
-- step is there: the PT Pos receipt number of a document handed over is set
-- on its delivery after the step to in_transit.  Notes (a step from a status
-- to itself) and the steps a citizen need not hear of send nothing.
CREATE FUNCTION notification_of_application_step() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    app     application%ROWTYPE;
    kind    text;
    params  jsonb;
BEGIN
    SELECT * INTO app FROM application a WHERE a.id = NEW.application_id;
    params := jsonb_build_object('code', app.code);

    IF NEW.to_status = 'submitted' THEN
        kind := 'application_submitted';
        params := params || jsonb_build_object(
            'service_name', (SELECT s.name FROM service s
                              WHERE s.code = app.service),
            'method', app.delivery_method);
    ELSIF NEW.to_status = 'rejected' THEN
        kind := 'application_rejected';
        params := params || jsonb_build_object(
            'reason', COALESCE(NEW.note, 'Alasan tidak dicatat; silakan '
                                         'hubungi kantor Disdukcapil.'));
    ELSIF NEW.to_status = 'awaiting_pickup' THEN
        -- back from PT Pos, or ready at the office from the start
        kind := CASE WHEN NEW.from_status = 'returned' THEN 'delivery_failed'
                     ELSE 'application_ready' END;
        params := params || jsonb_build_object(
            'office_name', (SELECT o.name FROM office o
                             WHERE o.code = app.pickup_office));
    ELSIF NEW.to_status = 'in_transit' AND NEW.from_status = 'batched' THEN
        kind := 'application_shipped';
        params := params || jsonb_build_object(
            'receipt_number', (SELECT d.resi FROM delivery d
                                WHERE d.application_id = app.id));
    ELSIF NEW.to_status = 'delivered' THEN
        kind := 'delivery_delivered';
    ELSE
        RETURN NULL;
    END IF;

    INSERT INTO notification (kind, phone, application_id, params)
    VALUES (kind, app.phone, app.id, jsonb_strip_nulls(params));
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER application_step_notification
    AFTER INSERT ON application_history
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.from_status IS DISTINCT FROM NEW.to_status)
    EXECUTE FUNCTION notification_of_application_step();

-- The outbox's rows name their appointment or application for tracing and
-- for the reminder's "once", without a foreign key: its check would cost the
-- booking's INSERT another lookup, and neither is ever deleted.
ALTER TABLE notification
    DROP CONSTRAINT notification_appointment_id_fkey,
    DROP CONSTRAINT notification_application_id_fkey;

-- Waking the sender -------------------------------------------------------------

-- A NOTIFY is queued at commit under a lock that one committing transaction
-- holds at a time, so a NOTIFY by every booking would commit the rush's
-- bookings one by one.  The kinds a citizen waits for on the screen (an OTP)
-- wake the sender at once; the others it finds by polling, within seconds.
DROP TRIGGER notification_wake ON notification;

CREATE TRIGGER notification_wake
    AFTER INSERT ON notification
    FOR EACH ROW WHEN (NEW.kind = 'otp')
    EXECUTE FUNCTION notification_wake();
