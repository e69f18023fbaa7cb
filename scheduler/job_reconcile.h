/*
 * reconcile: makes Redis's admission state agree with PostgreSQL for every
 * office and date of the booking window, closes past days (no-shows, bars,
 * their Redis keys), and rebuilds everything when Redis lost its state.
 */
#ifndef DK_JOB_RECONCILE_H
#define DK_JOB_RECONCILE_H

#include "job.h"

int dk_reconcile(dk_job_t *job);

/* Makes Redis agree with PostgreSQL on these dates (a PostgreSQL array
 * literal, "{2027-01-01,...}") at every office, the calendar of each day
 * with it: what import-holidays changed. */
int dk_reconcile_dates(dk_job_t *job, const char *dates);

/* 1 if Redis holds a complete state (dk:epoch present), 0 if not, DK_ERR
 * when Redis cannot tell. */
int dk_reconcile_epoch_present(dk_redis_t *redis);

#endif
