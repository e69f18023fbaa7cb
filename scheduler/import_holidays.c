/*
 * The file is read whole (a year's list is small) and every line checked
 * (domain/holiday.c) before anything is written: a bad line, or a date twice,
 * and every such line is printed with its number, and nothing is applied.
 * Then one transaction closes each date at every office through
 * calendar_close(), as an operator's closure does: the booked appointments
 * there become cancelled_by_office with the holiday's name as the reason.
 * Once committed, Redis is made to agree at once for the dates from today on
 * (reconcile's script, each office's day), so that bookings and availability
 * see the closures without waiting for the night.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holiday.h"
#include "import_holidays.h"
#include "job_reconcile.h"
#include "log.h"
#include "wib.h"

#define DK_HOLIDAYS_MAX_BYTES (1024 * 1024)

typedef struct {
    int line;
    dk_holiday h;
} dk_holidays_day_t;

typedef struct {
    int line;
    char reason[96];
} dk_holidays_bad_t;

typedef struct {
    dk_job_t *job;
    char *data;
    size_t len;
    dk_holidays_day_t *days;
    size_t ndays, capdays;
    dk_holidays_bad_t *bad;
    size_t nbad, capbad;
} dk_holidays_t;

static int
dk_holidays_read(dk_holidays_t *hs, const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return dk_err_set(&hs->job->err, "%s: %s", path, strerror(errno));
    hs->data = malloc(DK_HOLIDAYS_MAX_BYTES + 1);
    if (hs->data == NULL) {
        fclose(f);
        return dk_err_set(&hs->job->err, "out of memory");
    }
    n = fread(hs->data, 1, DK_HOLIDAYS_MAX_BYTES + 1, f);
    fclose(f);
    if (n > DK_HOLIDAYS_MAX_BYTES)
        return dk_err_set(&hs->job->err, "%s: larger than %d bytes", path,
                          DK_HOLIDAYS_MAX_BYTES);
    hs->len = n;
    hs->data[n] = '\0';
    return DK_OK;
}

static int
dk_holidays_bad(dk_holidays_t *hs, int line, const char *reason)
{
    if (hs->nbad == hs->capbad) {
        size_t cap = hs->capbad ? hs->capbad * 2 : 16;
        dk_holidays_bad_t *p = realloc(hs->bad, cap * sizeof(*p));

        if (p == NULL)
            return dk_err_set(&hs->job->err, "out of memory");
        hs->bad = p;
        hs->capbad = cap;
    }
    hs->bad[hs->nbad].line = line;
    snprintf(hs->bad[hs->nbad].reason, sizeof(hs->bad[hs->nbad].reason), "%s",
             reason);
    hs->nbad++;
    return DK_OK;
}

/* A good line: kept, unless its date came before. */
static int
dk_holidays_add(dk_holidays_t *hs, int line, const dk_holiday *h)
{
    char why[96], date[DK_DATE_LEN + 1];
    size_t i;

    for (i = 0; i < hs->ndays; i++) {
        if (hs->days[i].h.day == h->day) {
            dk_date_format(h->day, date);
            snprintf(why, sizeof(why), "date %s is on line %d already", date,
                     hs->days[i].line);
            return dk_holidays_bad(hs, line, why);
        }
    }
    if (hs->ndays == hs->capdays) {
        size_t cap = hs->capdays ? hs->capdays * 2 : 32;
        dk_holidays_day_t *p = realloc(hs->days, cap * sizeof(*p));

        if (p == NULL)
            return dk_err_set(&hs->job->err, "out of memory");
        hs->days = p;
        hs->capdays = cap;
    }
    hs->days[hs->ndays].line = line;
    hs->days[hs->ndays].h = *h;
    hs->ndays++;
    return DK_OK;
}

/* Every line, by its number: the header first, then one holiday a line. */
static int
dk_holidays_parse(dk_holidays_t *hs)
{
    const char *p = hs->data, *end = hs->data + hs->len, *eol, *why;
    int line, header = 0, rc;
    dk_holiday h;

    /* a byte order mark is not part of the header */
    if (hs->len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    for (line = 1; p < end; line++, p = eol + 1) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        if (!header) {
            rc = dk_holiday_parse(p, (size_t)(eol - p), &h, &why);
            if (rc == 1)
                continue;
            header = 1;
            if (!dk_holiday_header(p, (size_t)(eol - p)) &&
                dk_holidays_bad(hs, line, "the header must be date,name") !=
                    DK_OK)
                return DK_ERR;
            continue;
        }
        rc = dk_holiday_parse(p, (size_t)(eol - p), &h, &why);
        if (rc == 0)
            rc = dk_holidays_add(hs, line, &h);
        else if (rc < 0)
            rc = dk_holidays_bad(hs, line, why);
        else
            rc = DK_OK;
        if (rc != DK_OK)
            return DK_ERR;
    }
    if (!header)
        return dk_holidays_bad(hs, 1, "no header date,name");
    return DK_OK;
}

static int
dk_holidays_refuse(dk_holidays_t *hs)
{
    char q[300], r[200];
    size_t i;

    for (i = 0; i < hs->nbad; i++) {
        dk_log_warn("import_bad_line", "file=%s line=%d reason=%s",
                    dk_log_quote(hs->job->input, q, sizeof(q)), hs->bad[i].line,
                    dk_log_quote(hs->bad[i].reason, r, sizeof(r)));
        printf("%s: line %d: %s\n", hs->job->input, hs->bad[i].line,
               hs->bad[i].reason);
    }
    fflush(stdout);
    hs->job->bad_input = 1;
    dk_job_count(hs->job, "bad_lines", (long long)hs->nbad);
    return dk_err_set(&hs->job->err, "%zu bad lines: the file was not imported",
                      hs->nbad);
}

/* One date closed at every office; *changed: 0 newly, 1 for another reason
 * than before, -1 as it was already. */
static int
dk_holidays_close(dk_holidays_t *hs, const dk_holidays_day_t *d,
                  long long *cancelled, int *changed)
{
    char date[DK_DATE_LEN + 1], was[1024] = "";
    const char *params[] = {date, d->h.reason};
    dk_job_t *job = hs->job;
    PGresult *res;
    int i, known;

    *changed = 0;
    dk_date_format(d->h.day, date);
    if (dk_db_query(job->db, &res,
                    "SELECT reason FROM calendar_closure"
                    " WHERE date = $1::date AND office IS NULL",
                    1, params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    known = PQntuples(res) == 1;
    if (known)
        snprintf(was, sizeof(was), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    *changed = !known ? 0 : strcmp(was, d->h.reason) != 0 ? 1 : -1;

    if (job->dry_run) {
        if (dk_db_query(job->db, &res,
                        "SELECT count(*) FROM appointment"
                        " WHERE date = $1::date AND status = 'booked'",
                        1, params) != DK_OK)
            return dk_err_set(&job->err, "%s", job->db->err.str);
        *cancelled += strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        return DK_OK;
    }

    if (dk_db_query(job->db, &res,
                    "SELECT appointments FROM calendar_close($1::date, NULL,"
                    " $2, 'scheduler', 'import')",
                    2, params) != DK_OK)
        return dk_err_set(&job->err, "line %d: %s", d->line, job->db->err.str);
    for (i = 0; i < PQntuples(res); i++)
        *cancelled += strtoll(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    return DK_OK;
}

/* "{2027-01-01,...}": the dates from today on, which Redis is to know. */
static char *
dk_holidays_ahead(dk_holidays_t *hs, long long *n)
{
    int32_t today = dk_wib_today(dk_clock_now());
    char *lit = malloc(2 + hs->ndays * (DK_DATE_LEN + 1) + 1), *p = lit;
    size_t i;

    if (lit == NULL)
        return NULL;
    *p++ = '{';
    for (i = 0, *n = 0; i < hs->ndays; i++) {
        if (hs->days[i].h.day < today)
            continue;
        if (*n > 0)
            *p++ = ',';
        dk_date_format(hs->days[i].h.day, p);
        p += DK_DATE_LEN;
        (*n)++;
    }
    *p++ = '}';
    *p = '\0';
    return lit;
}

static int
dk_holidays_apply(dk_holidays_t *hs)
{
    dk_job_t *job = hs->job;
    long long cancelled = 0, fresh = 0, changed = 0, same = 0, ahead = 0;
    char *dates, q[DK_ERRSTR_LEN + 8];
    int rc = DK_OK, how;
    size_t i;

    if (!job->dry_run && dk_db_begin(job->db) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    for (i = 0; i < hs->ndays && rc == DK_OK; i++) {
        rc = dk_holidays_close(hs, &hs->days[i], &cancelled, &how);
        fresh += how == 0;
        changed += how == 1;
        same += how == -1;
    }
    dk_job_count(job, "holidays", (long long)hs->ndays);
    dk_job_count(job, "closures_new", fresh);
    dk_job_count(job, "closures_changed", changed);
    dk_job_count(job, "closures_unchanged", same);
    dk_job_count(job, "appointments_cancelled", cancelled);
    if (rc != DK_OK)
        return DK_ERR;
    if (job->dry_run) {
        printf("import-holidays plan (dry run, nothing written): %zu "
               "holidays, %lld new, %lld changed, %lld unchanged; %lld "
               "booked appointments on those dates\n",
               hs->ndays, fresh, changed, same, cancelled);
        fflush(stdout);
        return DK_OK;
    }
    dk_crash_point("import_holidays_before_commit");
    if (dk_db_commit(job->db) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);

    dates = dk_holidays_ahead(hs, &ahead);
    if (dates == NULL)
        return dk_err_set(&job->err, "out of memory");
    if (ahead > 0)
        rc = dk_reconcile_dates(job, dates);
    free(dates);
    dk_job_count(job, "redis_dates", ahead);
    if (rc != DK_OK) {
        dk_log_error("import_redis_failed", "error=%s",
                     dk_log_quote(job->err.str, q, sizeof(q)));
        return dk_err_set(&job->err,
                          "imported into PostgreSQL, Redis not updated: "
                          "the next reconcile (or the same import again) "
                          "applies it");
    }
    printf("%s: %zu holidays: %lld new, %lld changed, %lld unchanged; %lld "
           "appointments cancelled by the office; Redis updated for %lld "
           "dates from today on\n",
           job->input, hs->ndays, fresh, changed, same, cancelled, ahead);
    fflush(stdout);
    return DK_OK;
}

int
dk_import_holidays(dk_job_t *job)
{
    dk_holidays_t hs;
    int rc;

    memset(&hs, 0, sizeof(hs));
    hs.job = job;
    rc = dk_holidays_read(&hs, job->input);
    if (rc == DK_OK)
        rc = dk_holidays_parse(&hs);
    if (rc == DK_OK && hs.nbad > 0)
        rc = dk_holidays_refuse(&hs);
    if (rc == DK_OK)
        rc = dk_holidays_apply(&hs);
    free(hs.days);
    free(hs.bad);
    free(hs.data);
    return rc;
}
