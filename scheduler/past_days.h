/*
 * Reconcile's close of the days gone by: no-shows, the bars they earn, and
 * the Redis keys of past days.
 */
#ifndef DK_PAST_DAYS_H
#define DK_PAST_DAYS_H

#include <stdint.h>

#include "job.h"

/* A booked appointment on a date its office closed is cancelled by the
 * office, never a no-show; then past days' booked ones are no-shows. */
int dk_past_no_shows(dk_job_t *job, const char *today);

/* Sets the bars of the NIKs and phones with no_show.count no-shows within
 * no_show.within_days (a no-show on a date closed after the day never
 * counts), and lifts those no longer due. */
int dk_past_bars(dk_job_t *job, int32_t today_day);

/* Drops the Redis keys of days before today. */
int dk_past_drop_keys(dk_job_t *job, const char *today);

#endif
