/*
 * reminder: the day before, an appointment_reminder row in the outbox for
 * each booked appointment of the next WIB day (sql/009: one per
 * appointment, however often the job runs).
 */
#ifndef DK_JOB_REMINDER_H
#define DK_JOB_REMINDER_H

#include "job.h"

int dk_reminder(dk_job_t *job);

#endif
