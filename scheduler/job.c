#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "log.h"

/* pg_try_advisory_lock(DK_LOCK_CLASS, job + 1): "DK" */
#define DK_LOCK_CLASS "17483"

volatile sig_atomic_t dk_stop_requested;

static const char *const dk_job_names[DK_JOB_COUNT] = {
    [DK_JOB_DELIVERY_BATCH] = "delivery-batch",
    [DK_JOB_RECONCILE] = "reconcile",
    [DK_JOB_IMPORT_DELIVERY] = "import-delivery",
    [DK_JOB_IMPORT_HOLIDAYS] = "import-holidays",
    [DK_JOB_REMINDER] = "reminder",
};

int
dk_job_parse(const char *name, dk_job_id_t *id)
{
    int i;

    for (i = 0; i < DK_JOB_COUNT; i++) {
        if (strcmp(dk_job_names[i], name) == 0) {
            *id = i;
            return DK_OK;
        }
    }
    return DK_ERR;
}

const char *
dk_job_name(dk_job_id_t id)
{
    return dk_job_names[id];
}

time_t
dk_clock_now(void)
{
    static long offset = -1;
    const char *s;

    if (offset == -1) {
        /* test-only: moves the scheduler's clock by this many seconds */
        s = getenv("DK_CLOCK_OFFSET");
        offset = s ? strtol(s, NULL, 10) : 0;
    }
    return time(NULL) + offset;
}

void
dk_crash_point(const char *point)
{
    const char *at = getenv("DK_CRASH_AT");

    if (at != NULL && strcmp(at, point) == 0) {
        dk_log_warn("crash_point", "point=%s", point);
        raise(SIGKILL);
    }
}

int
dk_job_db_fail(dk_job_t *job)
{
    return dk_err_set(&job->err, "%s", job->db->err.str);
}

int
dk_job_redis_fail(dk_job_t *job)
{
    return dk_err_set(&job->err, "%s", job->redis->err.str);
}

void
dk_job_count(dk_job_t *job, const char *name, long long n)
{
    json_object_set_new(job->counts, name, json_integer(n));
}

void
dk_job_count_text(dk_job_t *job, const char *name, const char *text)
{
    json_object_set_new(job->counts, name, json_string(text));
}

static int
dk_job_lock(dk_job_t *job, int lock)
{
    char id[8], value[8];
    const char *params[] = {id};

    snprintf(id, sizeof(id), "%d", job->id + 1);
    if (dk_db_value(job->db, value, sizeof(value),
                    lock ? "SELECT pg_try_advisory_lock(" DK_LOCK_CLASS ", $1)"
                         : "SELECT pg_advisory_unlock(" DK_LOCK_CLASS ", $1)",
                    1, params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    return value[0] == 't' ? DK_OK : DK_BUSY;
}

/* Claims the slot (or opens a slotless run): no row back means another
 * instance has run, or is running, this slot. A slot whose run failed or was
 * stopped is taken over, so a crash never loses a night's work. */
static int
dk_job_claim(dk_job_t *job, int64_t slot)
{
    char slot_s[24], pid[16], host[128] = "";
    const char *params[] = {dk_job_name(job->id), slot >= 0 ? slot_s : NULL,
                            host, pid, job->trigger};
    PGresult *res;

    snprintf(slot_s, sizeof(slot_s), "%lld", (long long)slot);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    gethostname(host, sizeof(host) - 1);
    if (dk_db_query(job->db, &res,
                    "INSERT INTO scheduler_run (job, slot, host, pid, reason)"
                    " VALUES ($1, to_timestamp($2::bigint), $3, $4, $5)"
                    " ON CONFLICT (job, slot) DO UPDATE"
                    " SET outcome = 'running', started_at = now(),"
                    "     finished_at = NULL, error = NULL, counts = '{}',"
                    "     attempts = scheduler_run.attempts + 1,"
                    "     host = EXCLUDED.host, pid = EXCLUDED.pid"
                    " WHERE scheduler_run.outcome IN ('failed', 'interrupted')"
                    " RETURNING id",
                    5, params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DK_DONE;
    }
    job->run_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return DK_OK;
}

static void
dk_job_finish(dk_job_t *job, const char *outcome)
{
    char id[24], *counts;
    const char *params[4];

    counts = json_dumps(job->counts, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(id, sizeof(id), "%lld", job->run_id);
    params[0] = id;
    params[1] = outcome;
    params[2] = counts ? counts : "{}";
    params[3] = strcmp(outcome, "ok") == 0 ? NULL : job->err.str;
    if (dk_db_exec(job->db,
                   "UPDATE scheduler_run SET outcome = $2, finished_at = now(),"
                   " counts = $3::jsonb, error = $4 WHERE id = $1",
                   4, params) != DK_OK)
        dk_log_error("run_record_failed", "run=%s job=%s", id,
                     dk_job_name(job->id));
    free(counts);
}

static void
dk_job_log_end(dk_job_t *job, const char *outcome)
{
    char *counts = json_dumps(job->counts, JSON_COMPACT | JSON_SORT_KEYS);
    char q[DK_ERRSTR_LEN + 8], cq[1024];

    if (strcmp(outcome, "failed") == 0)
        dk_log_error("run_end", "job=%s run=%lld outcome=%s error=%s",
                     dk_job_name(job->id), job->run_id, outcome,
                     dk_log_quote(job->err.str, q, sizeof(q)));
    else
        dk_log_info("run_end", "job=%s run=%lld outcome=%s counts=%s",
                    dk_job_name(job->id), job->run_id, outcome,
                    dk_log_quote(counts ? counts : "{}", cq, sizeof(cq)));
    free(counts);
}

static int
dk_job_dry_run(dk_job_t *job)
{
    int rc;

    if (dk_db_exec(job->db, "BEGIN READ ONLY", 0, NULL) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    rc = job->handler(job);
    dk_db_rollback(job->db);
    dk_job_log_end(job, rc == DK_OK ? "dry_run" : "failed");
    return rc;
}

int
dk_job_run(dk_job_t *job, int64_t slot)
{
    const char *outcome;
    int rc;

    if (job->counts == NULL)
        job->counts = json_object();
    job->slot = slot;
    if (job->dry_run)
        return dk_job_dry_run(job);

    rc = dk_job_lock(job, 1);
    if (rc != DK_OK)
        return rc;
    rc = dk_job_fail_stale(job->db, &job->err);
    if (rc == DK_OK)
        rc = dk_job_claim(job, slot);
    if (rc != DK_OK) {
        dk_job_lock(job, 0);
        return rc;
    }

    dk_log_info("run_start", "job=%s run=%lld trigger=%s slot=%lld",
                dk_job_name(job->id), job->run_id, job->trigger,
                (long long)slot);
    dk_crash_point("after_run_claim");

    rc = job->handler(job);
    if (rc != DK_OK)
        outcome = "failed";
    else if (job->interrupted)
        outcome = "interrupted";
    else
        outcome = "ok";
    if (rc != DK_OK)
        dk_db_rollback(job->db);
    dk_job_finish(job, outcome);
    dk_job_log_end(job, outcome);
    dk_job_lock(job, 0);
    return rc;
}

int
dk_job_fail_stale(dk_db_t *db, dk_err_t *err)
{
    char n[16];

    /* a run whose lock nobody holds is not running: its process died.
     * pg_try_advisory_lock would take the lock; pg_locks only looks. */
    if (dk_db_value(db, n, sizeof(n),
                    "WITH stale AS ("
                    " UPDATE scheduler_run r SET outcome = 'failed',"
                    "   finished_at = now(),"
                    "   error = 'left running: the process died'"
                    " WHERE r.outcome = 'running' AND NOT EXISTS ("
                    "   SELECT 1 FROM pg_locks l"
                    "   WHERE l.locktype = 'advisory' AND l.granted"
                    "     AND l.classid = " DK_LOCK_CLASS
                    "     AND l.objid = CASE r.job"
                    "       WHEN 'delivery-batch' THEN 1"
                    "       WHEN 'reconcile' THEN 2"
                    "       WHEN 'import-delivery' THEN 3"
                    "       WHEN 'import-holidays' THEN 4 ELSE 5 END"
                    "     AND l.pid <> pg_backend_pid())"
                    " RETURNING 1) SELECT count(*) FROM stale",
                    0, NULL) != DK_OK)
        return dk_err_set(err, "%s", db->err.str);
    if (atoi(n) > 0)
        dk_log_warn("stale_runs_failed", "count=%s", n);
    return DK_OK;
}
