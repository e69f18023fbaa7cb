-- 012: the outbox keeps only the indexes its readers use.  Every booking
-- writes a row here in its INSERT statement (011), so each index is paid by
-- the rush: notification_queued is the sender's claim order of 008, which
-- notification_queued_otp_first (009) replaced, and notification_created
-- served the retention, which now walks the primary key (the ids grow with
-- created_at: a row's id is taken in the transaction that stamps it).

DROP INDEX notification_queued;
DROP INDEX notification_created;
