/*
 * A run of a job: the advisory lock that keeps two instances from running the
 * same job at once, the scheduler_run row that records it and makes each
 * scheduled slot run exactly once, and the safe points where it may stop.
 */
#ifndef DK_JOB_H
#define DK_JOB_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "redis.h"
#include "status.h"

typedef enum {
    DK_JOB_DELIVERY_BATCH,
    DK_JOB_RECONCILE,
    DK_JOB_IMPORT_DELIVERY,
    DK_JOB_IMPORT_HOLIDAYS,
    DK_JOB_REMINDER,
    DK_JOB_COUNT
} dk_job_id_t;

typedef struct dk_job_s dk_job_t;
typedef int (*dk_job_handler_t)(dk_job_t *job);

struct dk_job_s {
    dk_job_id_t id;
    dk_job_handler_t handler; /* the job's code: dk_job_handler(id) */
    const dk_config_t *cfg;
    dk_db_t *db;
    dk_redis_t *redis; /* NULL for jobs that need no Redis */
    int dry_run;
    const char *trigger; /* "slot", "once", "epoch_missing", "import" */
    const char *input;   /* import-*: the file */
    long long run_id;
    int64_t slot; /* the scheduled slot, -1 for a run asked for by hand */
    json_t *counts;
    int interrupted; /* stopped at a safe point on SIGTERM */
    int bad_input;   /* import-*: the file was refused */
    dk_err_t err;
};

/* "delivery-batch" -> DK_JOB_DELIVERY_BATCH; DK_ERR for an unknown name. */
int dk_job_parse(const char *name, dk_job_id_t *id);
const char *dk_job_name(dk_job_id_t id);

/* Runs the job under its lock and records it. slot is the unix second of
 * the scheduled slot, or -1 for a run asked for by hand. Returns DK_BUSY
 * when the job is running elsewhere, DK_DONE when the slot has been run. */
int dk_job_run(dk_job_t *job, int64_t slot);

/* Marks failed the runs of every job that nobody is running any more (their
 * lock is free): what a crash left "running". */
int dk_job_fail_stale(dk_db_t *db, dk_err_t *err);

void dk_job_count(dk_job_t *job, const char *name, long long n);

/* The job fails with what its PostgreSQL (or Redis) connection said:
 * DK_ERR, for a "return dk_job_db_fail(job);". */
int dk_job_db_fail(dk_job_t *job);
int dk_job_redis_fail(dk_job_t *job);
void dk_job_count_text(dk_job_t *job, const char *name, const char *text);

/* The clock every day and slot is computed from. */
time_t dk_clock_now(void);

/* Test-only: DK_CRASH_AT=<point> kills the process there with SIGKILL. */
void dk_crash_point(const char *point);

extern volatile sig_atomic_t dk_stop_requested;

#endif
