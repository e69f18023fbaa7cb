/*
 * Claim in one transaction (batch rows, delivery rows, application status
 * "batched" through application_transition_many()), then write each manifest
 * atomically. The rows are the truth and the files are derived from them: a
 * manifest that a crash kept from being written, or that was lost, is
 * written again by the next run, byte for byte the same.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "delivery_budget.h"
#include "job_delivery.h"
#include "log.h"
#include "manifest.h"
#include "wib.h"

/* what is eligible: completed, by post, not yet batched */
#define DK_ELIGIBLE                                                            \
    " FROM application a WHERE a.status = 'completed'"                         \
    " AND a.delivery_method = 'post'"                                          \
    " AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.application_id = a.id)"

/* tonight: the period's budget, what is taken of it, what waits, and what
 * has waited too long to be delivered */
typedef struct {
    dk_budget_t budget;
    long long take;
    long long eligible, unconfirmed;
    long long overdue; /* waited over pickup_after_days */
    long long moved;   /* of them, moved to pickup tonight */
    char before[24];   /* completed before this unix second: overdue */
} dk_plan_t;

/* The budget left is counted in the transaction that claims, under the
 * job's lock: two claims can never both spend the same remainder. The
 * period is the one holding the night (WIB) on the scheduler's clock. */
static int
dk_delivery_budget(dk_job_t *job, int32_t night, dk_plan_t *p)
{
    const dk_config_t *cfg = job->cfg;
    PGresult *res;

    if (dk_budget_read(job->db, cfg, night, &p->budget, &job->err) != DK_OK)
        return DK_ERR;
    /* the scheduler's clock, which the tests move */
    snprintf(p->before, sizeof(p->before), "%lld",
             (long long)dk_clock_now() - cfg->pickup_after_days * 86400LL);
    if (dk_db_query(
            job->db, &res,
            "SELECT count(*) FILTER (WHERE a.kecamatan_code IS NOT NULL),"
            " count(*) FILTER (WHERE a.kecamatan_code IS NULL)" DK_ELIGIBLE,
            0, NULL) != DK_OK)
        return dk_job_db_fail(job);
    p->eligible = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    p->unconfirmed = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);

    p->take = p->eligible;
    if (p->take > p->budget.left)
        p->take = p->budget.left;
    if (p->take > cfg->per_night_cap)
        p->take = cfg->per_night_cap;
    return DK_OK;
}

/* The oldest completions first, numbered within their kecamatan into
 * batches of batch_size that continue the night's sequence. */
static int
dk_delivery_claim(dk_job_t *job, const dk_plan_t *p, const char *night)
{
    char take[24], size[16], run[24];
    const char *pick_params[] = {take, size, night};
    const char *params[] = {run, night, p->budget.first};
    char n[24], first[24];
    PGresult *res;

    snprintf(take, sizeof(take), "%lld", p->take);
    snprintf(size, sizeof(size), "%d", job->cfg->batch_size);
    snprintf(run, sizeof(run), "%lld", job->run_id);

    if (dk_db_exec(job->db,
                   "CREATE TEMP TABLE dk_pick ON COMMIT DROP AS"
                   " WITH p AS (SELECT a.id, a.code, a.kecamatan_code,"
                   "   a.completed_at" DK_ELIGIBLE
                   "   AND a.kecamatan_code IS NOT NULL"
                   "   ORDER BY a.completed_at, a.id LIMIT $1 FOR UPDATE OF a),"
                   " n AS (SELECT p.*, row_number() OVER (PARTITION BY"
                   "   p.kecamatan_code ORDER BY p.completed_at, p.id) - 1 AS i"
                   "   FROM p)"
                   " SELECT n.id, n.code, n.kecamatan_code,"
                   "   COALESCE((SELECT max(b.seq) FROM delivery_batch b"
                   "     WHERE b.night = $3::date"
                   "       AND b.kecamatan_code = n.kecamatan_code), 0)"
                   "     + n.i / $2::int + 1 AS seq,"
                   "   n.i % $2::int + 1 AS line"
                   " FROM n",
                   3, pick_params) != DK_OK)
        return dk_job_db_fail(job);

    if (dk_db_exec(job->db,
                   "INSERT INTO delivery_batch (code, run_id, night,"
                   "   kecamatan_code, seq, budget_period, item_count)"
                   " SELECT to_char($2::date, 'YYYYMMDD') || '-'"
                   "   || replace(kecamatan_code, '.', '') || '-'"
                   "   || lpad(seq::text, 3, '0'),"
                   "   $1, $2::date, kecamatan_code, seq, $3, count(*)"
                   " FROM dk_pick GROUP BY kecamatan_code, seq"
                   " ORDER BY kecamatan_code, seq",
                   3, params) != DK_OK)
        return dk_job_db_fail(job);

    if (dk_db_exec(job->db,
                   "INSERT INTO delivery (application_id, batch_id, line)"
                   " SELECT p.id, b.id, p.line FROM dk_pick p"
                   " JOIN delivery_batch b ON b.night = $1::date"
                   "  AND b.kecamatan_code = p.kecamatan_code"
                   "  AND b.seq = p.seq",
                   1, &night) != DK_OK)
        return dk_job_db_fail(job);

    /* one application_transition_many() per batch, whose note (the citizen
     * reads it) names the manifest; all of them in this one statement */
    if (dk_db_query(job->db, &res,
                    "SELECT COALESCE(sum(cardinality(t.refused)), 0),"
                    "   min(t.refused[1])"
                    " FROM (SELECT b.code, array_agg(p.id ORDER BY p.id) ids"
                    "   FROM dk_pick p JOIN delivery_batch b"
                    "     ON b.night = $1::date"
                    "    AND b.kecamatan_code = p.kecamatan_code"
                    "    AND b.seq = p.seq"
                    "   GROUP BY b.code) g,"
                    " LATERAL application_transition_many(g.ids, 'batched',"
                    "   'scheduler', 'Dokumen Anda masuk daftar kiriman PT Pos"
                    " (manifes ' || g.code || ').') t",
                    1, &night) != DK_OK)
        return dk_job_db_fail(job);
    snprintf(n, sizeof(n), "%s", PQgetvalue(res, 0, 0));
    snprintf(first, sizeof(first), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (strcmp(n, "0") != 0)
        return dk_err_set(&job->err,
                          "%s applications refused the step to batched"
                          " (application id %s first)",
                          n, first);
    return DK_OK;
}

/* How many post documents have waited too long: completed before the
 * cutoff, and not among the oldest confirmed ones that tonight batches. */
static int
dk_delivery_overdue(dk_job_t *job, dk_plan_t *p)
{
    char take[24];
    const char *params[] = {p->before, take};
    PGresult *res;

    snprintf(take, sizeof(take), "%lld", p->take);
    if (dk_db_query(job->db, &res,
                    "SELECT count(*) FROM (SELECT a.completed_at,"
                    "   a.kecamatan_code IS NOT NULL AS ok, row_number() OVER"
                    "   (PARTITION BY a.kecamatan_code IS NOT NULL"
                    "    ORDER BY a.completed_at, a.id) AS n" DK_ELIGIBLE ") e"
                    " WHERE e.completed_at < to_timestamp($1::bigint)"
                    "   AND NOT (e.ok AND e.n <= $2::bigint)",
                    2, params) != DK_OK)
        return dk_job_db_fail(job);
    p->overdue = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return DK_OK;
}

/* What still waits past pickup_after_days, after tonight's claim, is to be
 * picked up at the office of its kecamatan instead (in the claim's
 * transaction: a document is batched or moved, never both). */
static int
dk_delivery_to_pickup(dk_job_t *job, dk_plan_t *p)
{
    char left[24], n[24];
    const char *params[] = {p->before, left};

    snprintf(left, sizeof(left), "%lld", p->budget.left - p->take);
    if (dk_db_value(job->db, n, sizeof(n),
                    "SELECT delivery_overdue_to_pickup("
                    " to_timestamp($1::bigint), $2::bigint, 'scheduler')",
                    2, params) != DK_OK)
        return dk_job_db_fail(job);
    p->overdue = p->moved = strtoll(n, NULL, 10);
    return DK_OK;
}

static int
dk_delivery_plan(dk_job_t *job, const dk_plan_t *p, size_t missing)
{
    const dk_config_t *cfg = job->cfg;
    const dk_budget_t *b = &p->budget;
    char take[24], size[16];
    const char *params[] = {take, size};
    PGresult *res;
    int i;

    printf("delivery-batch plan (dry run, nothing written)\n"
           "  budget %s..%s: %lld total, %lld used, %lld left; per-night cap "
           "%d\n"
           "  eligible %lld (and %lld waiting for a confirmed kecamatan)\n"
           "  would batch %lld, leaving %lld waiting\n"
           "  would move %lld waiting over %d days to pickup at an office\n"
           "  manifests to (re)write: %zu\n",
           b->first, b->last, b->amount, b->used, b->left, cfg->per_night_cap,
           p->eligible, p->unconfirmed, p->take, p->eligible - p->take,
           p->overdue, cfg->pickup_after_days, missing);

    snprintf(take, sizeof(take), "%lld", p->take);
    snprintf(size, sizeof(size), "%d", cfg->batch_size);
    if (dk_db_query(job->db, &res,
                    "SELECT p.kecamatan_code, count(*),"
                    " (count(*) + $2::int - 1) / $2::int"
                    " FROM (SELECT a.kecamatan_code" DK_ELIGIBLE
                    "   AND a.kecamatan_code IS NOT NULL"
                    "   ORDER BY a.completed_at, a.id LIMIT $1) p"
                    " GROUP BY 1 ORDER BY 1",
                    2, params) != DK_OK)
        return dk_job_db_fail(job);
    for (i = 0; i < PQntuples(res); i++)
        printf("  kecamatan %s: %s documents in %s batches\n",
               PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2));
    PQclear(res);
    fflush(stdout);
    return DK_OK;
}

/* what still waits for a night after this one (a dry run moves nothing) */
static long long
dk_delivery_waiting(const dk_plan_t *p)
{
    return p->eligible - p->take + p->unconfirmed - p->moved;
}

static void
dk_delivery_counts(dk_job_t *job, const dk_plan_t *p)
{
    const dk_budget_t *b = &p->budget;
    long long take = job->dry_run ? 0 : p->take;
    char period[2 * DK_DATE_LEN + 3];

    snprintf(period, sizeof(period), "%s..%s", b->first, b->last);
    dk_job_count_text(job, "budget_period", period);
    dk_job_count(job, "budget_amount", b->amount);
    dk_job_count(job, "batched", take);
    dk_job_count(job, "budget_used", b->used + take);
    dk_job_count(job, "budget_left", b->left - take);
    dk_job_count(job, "waiting", dk_delivery_waiting(p));
    dk_job_count(job, "waiting_kecamatan", p->unconfirmed);
    dk_job_count(job, "to_pickup", p->moved);
}

int
dk_delivery_batch(dk_job_t *job)
{
    char night[DK_DATE_LEN + 1];
    int32_t today = dk_wib_today(dk_clock_now());
    long long *ids = NULL, written = 0;
    size_t missing = 0;
    dk_plan_t p;
    int rc;

    memset(&p, 0, sizeof(p));
    dk_date_format(today, night);
    if (!job->dry_run) {
        if (access(job->cfg->outbox_dir, W_OK) != 0)
            return dk_err_set(&job->err, "outbox_dir %s: %s",
                              job->cfg->outbox_dir, strerror(errno));
        dk_manifests_clean(job->cfg);
        /* before the claim's transaction: a submission, which reads the
         * period's row, never waits for a night's batch */
        if (dk_budget_sync(job->db, job->cfg, today, &job->err) != DK_OK)
            return DK_ERR;
        if (dk_db_begin(job->db) != DK_OK)
            return dk_job_db_fail(job);
    }
    if (dk_delivery_budget(job, today, &p) != DK_OK)
        return DK_ERR;

    if (job->dry_run) {
        if (dk_manifests_missing(job, &ids, &missing) != DK_OK ||
            dk_delivery_overdue(job, &p) != DK_OK) {
            free(ids);
            return DK_ERR;
        }
        free(ids);
        dk_delivery_counts(job, &p);
        return dk_delivery_plan(job, &p, missing);
    }

    if (p.take > 0 && dk_delivery_claim(job, &p, night) != DK_OK)
        return DK_ERR;
    if (dk_delivery_to_pickup(job, &p) != DK_OK)
        return DK_ERR;
    dk_crash_point("after_claim");
    if (dk_db_commit(job->db) != DK_OK)
        return dk_job_db_fail(job);
    dk_crash_point("after_commit");
    dk_log_info("claim_committed",
                "batched=%lld to_pickup=%lld budget_period=%s..%s", p.take,
                p.moved, p.budget.first, p.budget.last);
    dk_delivery_counts(job, &p);
    if (dk_delivery_waiting(&p) > 0)
        dk_log_warn("delivery_waiting",
                    "waiting=%lld budget_period=%s..%s budget_left=%lld cap=%d",
                    dk_delivery_waiting(&p), p.budget.first, p.budget.last,
                    p.budget.left - p.take, job->cfg->per_night_cap);
    if (p.moved > 0)
        dk_log_warn("delivery_to_pickup",
                    "moved=%lld after_days=%d budget_left=%lld", p.moved,
                    job->cfg->pickup_after_days, p.budget.left - p.take);
    if (dk_budget_warn(job->db, &p.budget, p.budget.used + p.take, &job->err) !=
        DK_OK)
        return DK_ERR;

    if (dk_stop_requested) {
        /* the claim is committed; the next run writes its manifests */
        job->interrupted = 1;
        return DK_OK;
    }

    rc = dk_manifests_missing(job, &ids, &missing);
    if (rc == DK_OK)
        rc = dk_manifests_write(job, ids, missing, &written);
    free(ids);
    dk_job_count(job, "manifests_written", written);
    dk_crash_point("after_manifests");
    return rc;
}
