-- The sender claims verification codes before anything else (a citizen is
-- waiting for the code, a reminder can wait a minute), oldest first: the
-- order of its claim, so that a claim is an index scan, not a sort of the
-- whole queue.
CREATE INDEX notification_queued_otp_first
    ON notification ((kind <> 'otp'), next_attempt_at, id)
    WHERE status = 'queued';

-- The reminder the day before an appointment (SPEC.md "Notifications"): the
-- scheduler's job `reminder` writes one appointment_reminder row per booked
-- appointment of the next WIB day. One reminder per appointment, whatever
-- runs the job again (a slot taken over, `once reminder`, two daemons): the
-- database refuses the second row, the job's INSERT skips it (ON CONFLICT).

CREATE UNIQUE INDEX notification_one_reminder ON notification (appointment_id)
    WHERE kind = 'appointment_reminder';

ALTER TABLE scheduler_run
    DROP CONSTRAINT scheduler_run_job_check,
    ADD CONSTRAINT scheduler_run_job_check
        CHECK (job IN ('delivery-batch', 'reconcile', 'import-delivery',
                       'import-holidays', 'reminder'));
