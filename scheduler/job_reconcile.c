/*
 * Each (office, date) is made right by one call of lua/reconcile.lua with
 * the committed active appointments read from PostgreSQL, so that bookings
 * going on meanwhile are never lost nor counted twice. The rows are streamed
 * in (office, date) order: memory holds one day of one office at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "job_reconcile.h"
#include "past_days.h"
#include "keys.h"
#include "log.h"
#include "wib.h"

#define DK_OFFICE_MAX 33

typedef struct {
    char office[DK_OFFICE_MAX];
    char date[DK_DATE_LEN + 1];
} dk_day_t;

typedef struct {
    dk_job_t *job;
    char office[DK_OFFICE_MAX];
    char date[DK_DATE_LEN + 1];
    char closed[1024];  /* the day's closure reason, "" when not closed */
    int opened;         /* the day was opened (a normally closed weekday) */
    dk_argv_t services; /* svc, top, override */
    int nservices;
    dk_argv_t appointments;
    dk_argv_t call;
    long long now_ms, grace_ms;
    long long days, kept, removed, restored, active;
    dk_day_t *again; /* days where admissions were restored */
    size_t nagain, capagain;
    PGresult *offices; /* every office: a date's phones are all of theirs */
} dk_recon_t;

/* dk:epoch names the master's history: a state rebuilt on another one (a
 * failover's promoted replica, a restarted Redis) may lack the last
 * admissions, and is lost as a missing one is. */
int
dk_reconcile_epoch_present(dk_redis_t *redis)
{
    redisReply *reply;
    int present;

    if (dk_redis_history(redis) != DK_OK ||
        dk_redis_command(redis, &reply, "GET " DK_KEY_EPOCH) != DK_OK)
        return DK_ERR;
    present = reply->type == REDIS_REPLY_STRING &&
              strcmp(reply->str, redis->replid) == 0;
    freeReplyObject(reply);
    return present;
}

static long long
dk_now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int
dk_recon_remember(dk_recon_t *r)
{
    if (r->nagain == r->capagain) {
        size_t cap = r->capagain ? r->capagain * 2 : 16;
        dk_day_t *p = realloc(r->again, cap * sizeof(*p));

        if (p == NULL)
            return dk_err_set(&r->job->err, "out of memory");
        r->again = p;
        r->capagain = cap;
    }
    memcpy(r->again[r->nagain].office, r->office, sizeof(r->office));
    memcpy(r->again[r->nagain].date, r->date, sizeof(r->date));
    r->nagain++;
    return DK_OK;
}

/* One (office, date): one script call, atomic in Redis. */
static int
dk_recon_flush(dk_recon_t *r, int first_pass)
{
    dk_argv_t *c = &r->call;
    redisReply *reply;
    int i, rc = DK_OK, nkeys = DK_DAY_KEYS;
    long long v[4] = {0, 0, 0, 0};

    if (r->office[0] == '\0')
        return DK_OK;
    dk_argv_reset(c);
    for (i = 0; i < DK_DAY_KEYS; i++) {
        char key[DK_KEY_MAX];
        int n = dk_key_day(key, sizeof(key), r->office, strlen(r->office),
                           r->date, (dk_day_key)i);

        if (n < 0 || dk_argv_add(c, key, (size_t)n) != DK_OK)
            return dk_err_set(&r->job->err, "no key for office %s", r->office);
    }
    for (i = 0; i < PQntuples(r->offices); i++) {
        const char *other = PQgetvalue(r->offices, i, 0);
        char key[DK_KEY_MAX];
        int n;

        if (strcmp(other, r->office) == 0)
            continue;
        n = dk_key_day(key, sizeof(key), other, strlen(other), r->date,
                       DK_DAY_ADMISSIONS);
        if (n < 0 || dk_argv_add(c, key, (size_t)n) != DK_OK)
            return dk_err_set(&r->job->err, "no key for office %s", other);
        nkeys++;
    }
    dk_argv_addf(c, "%lld", r->now_ms);
    dk_argv_addf(c, "%lld", r->grace_ms);
    dk_argv_add(c, r->closed, strlen(r->closed));
    dk_argv_add(c, r->opened ? "1" : "", r->opened ? 1 : 0);
    dk_argv_addf(c, "%d", r->nservices);
    for (i = 0; i < r->services.argc; i++)
        dk_argv_add(c, r->services.buf + r->services.off[i],
                    r->services.len[i]);
    for (i = 0; i < r->appointments.argc; i++)
        if (dk_argv_add(c, r->appointments.buf + r->appointments.off[i],
                        r->appointments.len[i]) != DK_OK)
            return dk_err_set(&r->job->err, "out of memory");

    if (dk_redis_eval(r->job->redis, &reply, DK_LUA_RECONCILE, nkeys, c) !=
        DK_OK)
        return dk_job_redis_fail(r->job);
    for (i = 0; i < 4 && (size_t)i < reply->elements; i++)
        v[i] = reply->element[i]->integer;
    freeReplyObject(reply);

    /* the second pass may only take out what the first restored */
    r->removed += v[1];
    if (first_pass) {
        r->days++;
        r->kept += v[0];
        r->restored += v[2];
        r->active += v[3];
    }
    if (v[1] > 0 || v[2] > 0)
        dk_log_info("reconcile_day",
                    "office=%s date=%s removed=%lld restored=%lld "
                    "in_flight=%lld active=%lld",
                    r->office, r->date, v[1], v[2], v[0], v[3]);
    if (first_pass && v[2] > 0)
        rc = dk_recon_remember(r);

    dk_crash_point("reconcile_mid");
    dk_argv_reset(&r->services);
    dk_argv_reset(&r->appointments);
    r->nservices = 0;
    return rc;
}

/*
 * Streams, for each (office, date), first one row per service (the highest
 * queue number ever given, whatever its status, the quota override, and the
 * day's calendar: its closure's reason, whether it was opened), then one row
 * per active appointment. The days: $1 .. $2 at every office, and every
 * later day the calendar says something of (set ahead: a rebuild restores
 * it); or only the pairs ($3, $4); or every office on the dates $5.
 */
static const char dk_recon_sql[] =
    "WITH days AS ("
    "  SELECT o.code AS office, d::date AS date"
    "  FROM office o, generate_series($1::date, $2::date, '1 day') d"
    "  WHERE $3::text[] IS NULL AND $5::date[] IS NULL"
    "  UNION"
    "  SELECT o.code, c.date FROM office o,"
    "   (SELECT date FROM calendar_closure"
    "    UNION SELECT date FROM calendar_opening) c"
    "  WHERE $3::text[] IS NULL AND $5::date[] IS NULL AND c.date > $2::date"
    "  UNION"
    "  SELECT * FROM unnest($3::text[], $4::date[])"
    "  UNION"
    "  SELECT o.code, d FROM office o, unnest($5::date[]) d),"
    " day AS ("
    "  SELECT days.office, days.date, c.reason, c.opened FROM days"
    "  CROSS JOIN LATERAL calendar_day(days.date, days.office) c)"
    " SELECT day.office, day.date::text, 0 AS kind, s.code,"
    "  COALESCE((SELECT max(a.queue_number) FROM appointment a"
    "    WHERE a.office = day.office AND a.date = day.date"
    "      AND a.service = s.code), 0)::text,"
    "  COALESCE(q.quota::text, ''), NULL, NULL, NULL, NULL,"
    "  COALESCE(day.reason, ''), CASE WHEN day.opened THEN '1' ELSE '' END"
    " FROM day CROSS JOIN service s"
    " LEFT JOIN quota_override q ON q.office = day.office"
    "  AND q.date = day.date AND q.service = s.code"
    " UNION ALL"
    " SELECT a.office, a.date::text, 1, a.service, NULL, NULL, a.code, a.nik,"
    "  a.phone || '|' || a.queue_number,"
    "  (extract(epoch FROM a.created_at) * 1000)::bigint::text, NULL, NULL"
    " FROM appointment a JOIN day ON day.office = a.office"
    "  AND day.date = a.date"
    " WHERE a.status IN ('booked', 'checked_in', 'called', 'served')"
    " ORDER BY 1, 2, 3";

static int
dk_recon_row(dk_recon_t *r, PGresult *row, int first_pass)
{
    const char *office = PQgetvalue(row, 0, 0);
    const char *date = PQgetvalue(row, 0, 1);
    const char *pq;
    dk_argv_t *a;

    if (strcmp(office, r->office) != 0 || strcmp(date, r->date) != 0) {
        if (dk_recon_flush(r, first_pass) != DK_OK)
            return DK_ERR;
        if (dk_stop_requested && r->office[0] != '\0') {
            r->job->interrupted = 1;
            return DK_BUSY;
        }
        snprintf(r->office, sizeof(r->office), "%s", office);
        snprintf(r->date, sizeof(r->date), "%s", date);
    }
    if (PQgetvalue(row, 0, 2)[0] == '0') {
        snprintf(r->closed, sizeof(r->closed), "%s", PQgetvalue(row, 0, 10));
        r->opened = PQgetvalue(row, 0, 11)[0] == '1';
        a = &r->services;
        dk_argv_add(a, PQgetvalue(row, 0, 3), PQgetlength(row, 0, 3));
        dk_argv_add(a, PQgetvalue(row, 0, 4), PQgetlength(row, 0, 4));
        dk_argv_add(a, PQgetvalue(row, 0, 5), PQgetlength(row, 0, 5));
        r->nservices++;
        return DK_OK;
    }
    a = &r->appointments;
    pq = PQgetvalue(row, 0, 8);
    dk_argv_add(a, PQgetvalue(row, 0, 6), PQgetlength(row, 0, 6));
    dk_argv_add(a, PQgetvalue(row, 0, 3), PQgetlength(row, 0, 3));
    dk_argv_add(a, PQgetvalue(row, 0, 7), PQgetlength(row, 0, 7));
    dk_argv_add(a, pq, strchr(pq, '|') - pq);
    dk_argv_add(a, strchr(pq, '|') + 1, strlen(strchr(pq, '|') + 1));
    return dk_argv_add(a, PQgetvalue(row, 0, 9), PQgetlength(row, 0, 9)) ==
                   DK_OK
               ? DK_OK
               : dk_err_set(&r->job->err, "out of memory");
}

static int
dk_recon_days(dk_recon_t *r, const char *from, const char *to,
              const char *offices, const char *dates, const char *cal_dates)
{
    const char *params[] = {from, to, offices, dates, cal_dates};
    PGresult *row;
    int rc, first_pass = offices == NULL;

    r->office[0] = '\0';
    r->date[0] = '\0';
    if (dk_db_stream(r->job->db, dk_recon_sql, 5, params) != DK_OK)
        return dk_job_db_fail(r->job);
    for (;;) {
        rc = dk_db_stream_next(r->job->db, &row);
        if (rc == DK_BUSY)
            break;
        if (rc == DK_ERR)
            return dk_job_db_fail(r->job);
        rc = dk_recon_row(r, row, first_pass);
        PQclear(row);
        if (rc != DK_OK) {
            /* DK_BUSY: stopped at a safe point, between two days */
            dk_db_stream_cancel(r->job->db);
            return rc == DK_BUSY ? DK_OK : DK_ERR;
        }
    }
    return dk_recon_flush(r, first_pass);
}

static int
dk_recon_append_array(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);

    if (*len + n + 4 > *cap) {
        size_t c = (*cap + n + 4) * 2;
        char *p = realloc(*buf, c);

        if (p == NULL)
            return DK_ERR;
        *buf = p;
        *cap = c;
    }
    (*buf)[*len] = *len == 0 ? '{' : ',';
    (*len)++;
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '}';
    (*buf)[*len + 1] = '\0';
    return DK_OK;
}

/* A cancellation that committed between our read and the script is
 * restored by mistake; a second read of those days, after the script,
 * sees it cancelled and takes it out again. */
static int
dk_recon_second_pass(dk_recon_t *r, const char *from, const char *to)
{
    char *offices = NULL, *dates = NULL;
    size_t lo = 0, co = 0, ld = 0, cd = 0, i;
    int rc = DK_OK;

    if (r->nagain == 0)
        return DK_OK;
    for (i = 0; i < r->nagain && rc == DK_OK; i++) {
        rc = dk_recon_append_array(&offices, &lo, &co, r->again[i].office);
        if (rc == DK_OK)
            rc = dk_recon_append_array(&dates, &ld, &cd, r->again[i].date);
    }
    if (rc != DK_OK)
        rc = dk_err_set(&r->job->err, "out of memory");
    else
        rc = dk_recon_days(r, from, to, offices, dates, NULL);
    free(offices);
    free(dates);
    return rc;
}

static int
dk_recon_plan(dk_job_t *job, const char *today, const char *last,
              int rebuilding)
{
    char n[24], closed[24];

    if (dk_db_value(job->db, n, sizeof(n),
                    "SELECT count(*) FROM appointment a"
                    " WHERE status = 'booked' AND date < $1::date"
                    "   AND NOT EXISTS (SELECT 1 FROM calendar_closure c"
                    "     WHERE c.date = a.date"
                    "       AND (c.office IS NULL OR c.office = a.office))",
                    1, &today) != DK_OK)
        return dk_job_db_fail(job);
    if (dk_db_value(job->db, closed, sizeof(closed),
                    "SELECT count(*) FROM appointment a"
                    " WHERE status = 'booked' AND EXISTS ("
                    "   SELECT 1 FROM calendar_closure c WHERE c.date = a.date"
                    "     AND (c.office IS NULL OR c.office = a.office))",
                    0, NULL) != DK_OK)
        return dk_job_db_fail(job);
    if (dk_past_bars(job, dk_wib_today(dk_clock_now())) != DK_OK ||
        dk_past_drop_keys(job, today) != DK_OK)
        return DK_ERR;
    printf(
        "reconcile plan (dry run, nothing written)\n"
        "  redis state: %s\n"
        "  days: %s .. %s, every office and service\n"
        "  booked appointments on closed dates, to cancel by the office: %s\n"
        "  past appointments to mark no_show: %s\n"
        "  no-show bars: %lld\n"
        "  past-day redis keys to drop: %lld\n",
        rebuilding ? "LOST (dk:epoch missing or of another history): full "
                     "rebuild"
                   : "present",
        today, last, closed, n,
        json_integer_value(json_object_get(job->counts, "bars")),
        json_integer_value(json_object_get(job->counts, "past_keys_dropped")));
    fflush(stdout);
    return DK_OK;
}

/* Begins a rebuild: the marker that dk:epoch is set against at the end.
 * While dk:epoch is missing nobody is admitted; a booking admitted just
 * before the loss may still be writing its row, so PostgreSQL is read only
 * once those have settled (rebuild_settle_seconds > Redis's
 * min-replicas-max-lag + 1 + the module's dukcapil_postgres_timeout: an old
 * master cut off by a failover admits until its replicas' lag passes
 * min-replicas-max-lag, and each admission's row is written within the
 * timeout). */
static int
dk_recon_rebuild_begin(dk_job_t *job, char *token, size_t len)
{
    int tenths = job->cfg->redis_rebuild_settle_seconds * 10;

    snprintf(token, len, "%d-%lld", (int)getpid(), dk_now_ms());
    if (dk_redis_command(job->redis, NULL,
                         "SET " DK_KEY_REBUILDING " %s EX 3600",
                         token) != DK_OK)
        return dk_job_redis_fail(job);
    dk_log_warn("rebuild_start", "reason=epoch_missing settle_seconds=%d",
                job->cfg->redis_rebuild_settle_seconds);
    while (tenths-- > 0 && !dk_stop_requested)
        usleep(100000);
    if (dk_stop_requested)
        job->interrupted = 1;
    return DK_OK;
}

/* dk:epoch = history, the master's when the rebuild began, if it is still
 * the master's: a failover meanwhile leaves the state lost. */
static int
dk_recon_rebuild_end(dk_job_t *job, const char *token, const char *history)
{
    dk_argv_t a;
    redisReply *reply;
    int rc;

    if (dk_redis_history(job->redis) != DK_OK)
        return dk_job_redis_fail(job);
    if (strcmp(history, job->redis->replid) != 0)
        return dk_err_set(&job->err, "redis changed history during the "
                                     "rebuild; dk:epoch left unset");
    memset(&a, 0, sizeof(a));
    dk_argv_add(&a, DK_KEY_REBUILDING, strlen(DK_KEY_REBUILDING));
    dk_argv_add(&a, DK_KEY_EPOCH, strlen(DK_KEY_EPOCH));
    dk_argv_add(&a, token, strlen(token));
    dk_argv_add(&a, history, strlen(history));
    rc = dk_redis_eval(job->redis, &reply, DK_LUA_EPOCH, 2, &a);
    dk_argv_free(&a);
    if (rc != DK_OK)
        return dk_job_redis_fail(job);
    rc = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject(reply);
    if (!rc)
        return dk_err_set(&job->err, "redis lost its state again during the "
                                     "rebuild; dk:epoch left unset");
    dk_log_info("rebuild_done", "epoch=%s", history);
    return DK_OK;
}

/*
 * The last day to make right: the end of the window, or a later day that
 * holds something (a booking made through an nginx whose
 * dukcapil_booking_window is longer than appointments.window_days, an
 * override): a day left out would not be rebuilt after a Redis loss, and
 * could be over-booked.  The later days the calendar closes or opens are
 * dk_recon_sql's own.
 */
static int
dk_recon_last_day(dk_job_t *job, const char *today, char *last, size_t len)
{
    const char *params[] = {today, last};

    if (dk_db_value(job->db, last, len,
                    "SELECT greatest($2::date,"
                    " (SELECT max(date) FROM appointment"
                    "   WHERE date >= $1::date"
                    "     AND status IN ('booked', 'checked_in', 'called',"
                    "                    'served')),"
                    " (SELECT max(date) FROM quota_override"
                    "   WHERE date >= $1::date))::text",
                    2, params) != DK_OK)
        return dk_job_db_fail(job);
    return DK_OK;
}

/* The days of dk_recon_days (cal_dates NULL: the window and the calendar
 * set ahead), both passes, and their counts. */
static int
dk_recon_run(dk_job_t *job, const char *from, const char *to,
             const char *cal_dates)
{
    dk_recon_t r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.job = job;
    r.now_ms = dk_now_ms();
    r.grace_ms = (long long)job->cfg->admission_grace_seconds * 1000;
    if (dk_db_query(job->db, &r.offices, "SELECT code FROM office ORDER BY 1",
                    0, NULL) != DK_OK)
        return dk_job_db_fail(job);
    rc = dk_recon_days(&r, from, to, NULL, NULL, cal_dates);
    if (rc == DK_OK && !job->interrupted)
        rc = dk_recon_second_pass(&r, from, to);
    dk_argv_free(&r.services);
    dk_argv_free(&r.appointments);
    dk_argv_free(&r.call);
    PQclear(r.offices);
    free(r.again);
    dk_job_count(job, "days", r.days);
    dk_job_count(job, "admissions_active", r.active);
    dk_job_count(job, "admissions_removed", r.removed);
    dk_job_count(job, "admissions_restored", r.restored);
    dk_job_count(job, "admissions_in_flight", r.kept);
    return rc;
}

int
dk_reconcile_dates(dk_job_t *job, const char *dates)
{
    char today[DK_DATE_LEN + 1];

    dk_date_format(dk_wib_today(dk_clock_now()), today);
    return dk_recon_run(job, today, today, dates);
}

int
dk_reconcile(dk_job_t *job)
{
    const dk_config_t *cfg = job->cfg;
    int32_t today_day = dk_wib_today(dk_clock_now());
    char today[DK_DATE_LEN + 1], last[DK_DATE_LEN + 1], token[64];
    char history[sizeof(job->redis->replid)];
    int present, rc;

    dk_date_format(today_day, today);
    dk_date_format(today_day + cfg->window_days, last);
    if (dk_recon_last_day(job, today, last, sizeof(last)) != DK_OK)
        return DK_ERR;
    present = dk_reconcile_epoch_present(job->redis);
    if (present == DK_ERR)
        return dk_job_redis_fail(job);
    memcpy(history, job->redis->replid, sizeof(history));
    dk_job_count(job, "rebuild", !present);
    if (job->dry_run)
        return dk_recon_plan(job, today, last, !present);

    if (!present && dk_recon_rebuild_begin(job, token, sizeof(token)) != DK_OK)
        return DK_ERR;
    if (job->interrupted)
        return DK_OK;
    if (dk_past_no_shows(job, today) != DK_OK ||
        dk_past_bars(job, today_day) != DK_OK)
        return DK_ERR;

    rc = dk_recon_run(job, today, last, NULL);
    if (rc != DK_OK || job->interrupted)
        return rc;

    if (dk_past_drop_keys(job, today) != DK_OK)
        return DK_ERR;
    if (!present)
        return dk_recon_rebuild_end(job, token, history);
    return DK_OK;
}
