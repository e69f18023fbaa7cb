/*
 * Reconcile's close of the days gone by: the booked appointments of a past
 * day become no-shows (or cancelled by the office, on a date it closed),
 * the no-shows earn their NIK and their phone a bar, bars no longer due are
 * lifted, and the Redis keys of past days are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "past_days.h"
#include "wib.h"

/* A booked appointment on a date its office closed is cancelled by the
 * office, never a no-show; then past days' booked ones are no-shows, and so
 * are the citizens called at a counter and never finished (sql/015). */
int
dk_past_no_shows(dk_job_t *job, const char *today)
{
    PGresult *res;

    if (dk_db_query(job->db, &res,
                    "SELECT cancelled_by_office, no_shows"
                    " FROM appointment_night($1::date)",
                    1, &today) != DK_OK)
        return dk_job_db_fail(job);
    dk_job_count(job, "cancelled_by_office",
                 strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    dk_job_count(job, "no_shows_marked",
                 strtoll(PQgetvalue(res, 0, 1), NULL, 10));
    PQclear(res);
    return DK_OK;
}

static int
dk_bar_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a bar's key names: its NIK, or its phone (domain/keys.h). */
typedef const char *(*dk_bar_of_t)(const char *key, size_t len);

/* Deletes the bar keys matching pattern whose NIK or phone (of) is no
 * longer barred; bars[] is sorted. */
static int
dk_past_bars_prune(dk_job_t *job, const char *pattern, dk_bar_of_t of,
                   char **bars, size_t n, long long *pruned)
{
    char cursor[32] = "0";
    redisReply *reply;
    size_t i;

    do {
        if (dk_redis_command(job->redis, &reply, "SCAN %s MATCH %s COUNT 1000",
                             cursor, pattern) != DK_OK)
            return dk_job_redis_fail(job);
        snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
        for (i = 0; i < reply->element[1]->elements; i++) {
            redisReply *key = reply->element[1]->element[i];
            const char *who = of(key->str, key->len);

            if (who == NULL ||
                bsearch(&who, bars, n, sizeof(*bars), dk_bar_cmp) != NULL)
                continue;
            if (dk_redis_command(job->redis, NULL, "DEL %s", key->str) !=
                DK_OK) {
                freeReplyObject(reply);
                return dk_job_redis_fail(job);
            }
            (*pruned)++;
        }
        freeReplyObject(reply);
    } while (strcmp(cursor, "0") != 0);
    return DK_OK;
}

/* The no-shows that count towards a bar, of the days within $2 days before
 * $1: not on a date its office closed (closed after the day), and not a call
 * the night closed (sql/015: the operator never said served or absent, so
 * the citizen who came and was called may well have been served). */
#define DK_PAST_NO_SHOWS_THAT_COUNT                                            \
    " WHERE status = 'no_show'"                                                \
    "   AND date >= $1::date - $2::int AND date < $1::date"                    \
    "   AND NOT EXISTS (SELECT 1 FROM calendar_closure c"                      \
    "     WHERE c.date = a.date"                                               \
    "       AND (c.office IS NULL OR c.office = a.office))"                    \
    "   AND NOT (a.calls > 0 AND a.finished_by = 'scheduler')"

/* A phone that booked no_show.count no-shows within no_show.within_days
 * (whatever the NIKs) is barred as a NIK is (SPEC.md): a bot's phone cannot
 * book again with fresh NIKs. As for a NIK, a no-show on a date its office
 * closed never counts. */
static int
dk_past_phone_bars(dk_job_t *job, const char *const *params)
{
    char **bars = NULL;
    char key[DK_KEY_MAX];
    size_t n = 0, i;
    long long pruned = 0;
    PGresult *res;
    int32_t until;
    int rc = DK_OK;

    if (dk_db_query(job->db, &res,
                    "SELECT phone, (max(date) + $4::int)::text"
                    "  FROM appointment a" DK_PAST_NO_SHOWS_THAT_COUNT
                    " GROUP BY phone HAVING count(*) >= $3::int"
                    "   AND max(date) + $4::int >= $1::date"
                    " ORDER BY phone COLLATE \"C\"",
                    4, params) != DK_OK)
        return dk_job_db_fail(job);

    n = PQntuples(res);
    bars = calloc(n + 1, sizeof(*bars));
    if (bars == NULL) {
        PQclear(res);
        return dk_err_set(&job->err, "out of memory");
    }
    for (i = 0; i < n && rc == DK_OK; i++) {
        bars[i] = PQgetvalue(res, i, 0);
        if (dk_date_parse(PQgetvalue(res, i, 1), DK_DATE_LEN, &until) != 0 ||
            dk_key_phone_bar(key, sizeof(key), bars[i], strlen(bars[i])) < 0)
            continue;
        if (job->dry_run)
            continue;
        rc = dk_redis_command(job->redis, NULL, "SET %s %s EXAT %lld", key,
                              PQgetvalue(res, i, 1),
                              (long long)(until + 1) * 86400 - DK_WIB_OFFSET);
        if (rc != DK_OK)
            rc = dk_job_redis_fail(job);
    }
    if (rc == DK_OK && !job->dry_run)
        rc = dk_past_bars_prune(job, DK_KEY_PHONE_BAR_PATTERN, dk_key_bar_phone,
                                bars, n, &pruned);
    dk_job_count(job, "phone_bars", n);
    dk_job_count(job, "phone_bars_lifted", pruned);
    free(bars);
    PQclear(res);
    return rc;
}

/* A NIK with no_show.count no-shows within no_show.within_days is barred
 * until bar_days after its last one; the key expires the day after. A
 * no-show on a date its office closed (closed after the day) never counts. */
int
dk_past_bars(dk_job_t *job, int32_t today_day)
{
    const dk_config_t *cfg = job->cfg;
    char today[DK_DATE_LEN + 1], within[16], count[16], bar[16];
    const char *params[] = {today, within, count, bar};
    char **bars = NULL;
    size_t n = 0, i;
    long long pruned = 0;
    PGresult *res;
    int32_t until;
    int rc = DK_OK;

    dk_date_format(today_day, today);
    snprintf(within, sizeof(within), "%d", cfg->no_show_within_days);
    snprintf(count, sizeof(count), "%d", cfg->no_show_count);
    snprintf(bar, sizeof(bar), "%d", cfg->no_show_bar_days);
    if (dk_db_query(job->db, &res,
                    "SELECT nik, (max(date) + $4::int)::text FROM appointment "
                    "a" DK_PAST_NO_SHOWS_THAT_COUNT
                    " GROUP BY nik HAVING count(*) >= $3::int"
                    "   AND max(date) + $4::int >= $1::date"
                    " ORDER BY nik",
                    4, params) != DK_OK)
        return dk_job_db_fail(job);

    n = PQntuples(res);
    bars = calloc(n + 1, sizeof(*bars));
    if (bars == NULL) {
        PQclear(res);
        return dk_err_set(&job->err, "out of memory");
    }
    for (i = 0; i < n && rc == DK_OK; i++) {
        bars[i] = PQgetvalue(res, i, 0);
        if (dk_date_parse(PQgetvalue(res, i, 1), DK_DATE_LEN, &until) != 0)
            continue;
        if (job->dry_run)
            continue;
        rc = dk_redis_command(job->redis, NULL,
                              "SET " DK_KEY_BAR_PREFIX "%s %s EXAT %lld",
                              bars[i], PQgetvalue(res, i, 1),
                              (long long)(until + 1) * 86400 - DK_WIB_OFFSET);
        if (rc != DK_OK)
            rc = dk_job_redis_fail(job);
    }
    if (rc == DK_OK && !job->dry_run)
        rc = dk_past_bars_prune(job, DK_KEY_BAR_PATTERN, dk_key_bar_nik, bars,
                                n, &pruned);
    dk_job_count(job, "bars", n);
    dk_job_count(job, "bars_lifted", pruned);
    free(bars);
    PQclear(res);
    if (rc == DK_OK)
        rc = dk_past_phone_bars(job, params);
    return rc;
}

/* The keys of days before today: "dk:{office:YYYY-MM-DD}:..." */
int
dk_past_drop_keys(dk_job_t *job, const char *today)
{
    char cursor[32] = "0";
    redisReply *reply;
    long long dropped = 0;
    size_t i;

    do {
        if (dk_redis_command(job->redis, &reply,
                             "SCAN %s MATCH " DK_KEY_DAY_PATTERN " COUNT 1000",
                             cursor) != DK_OK)
            return dk_job_redis_fail(job);
        snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
        for (i = 0; i < reply->element[1]->elements; i++) {
            redisReply *key = reply->element[1]->element[i];
            const char *date = dk_key_day_date(key->str, key->len);

            if (date == NULL || strncmp(date, today, DK_DATE_LEN) >= 0)
                continue;
            dropped++;
            if (job->dry_run)
                continue;
            if (dk_redis_command(job->redis, NULL, "UNLINK %s", key->str) !=
                DK_OK) {
                freeReplyObject(reply);
                return dk_job_redis_fail(job);
            }
        }
        freeReplyObject(reply);
    } while (strcmp(cursor, "0") != 0);
    dk_job_count(job, "past_keys_dropped", dropped);
    return DK_OK;
}
