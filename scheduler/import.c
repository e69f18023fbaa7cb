/*
 * The file is read whole (a courier's upload is small), checked line by line
 * for shape (import_csv.c), then loaded with COPY and applied by
 * delivery_import_apply() in SQL, which checks each line against the
 * deliveries. Every bad line, from either check, is reported; any one of
 * them rolls the whole file back. The file's SHA-256 is recorded so that the
 * same file imported again changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_csv.h"
#include "log.h"

#define DK_IMPORT_MAX_BYTES (64 * 1024 * 1024)

typedef struct {
    dk_job_t *job;
    char *data; /* the file's bytes, as the courier wrote them */
    size_t len;
    dk_import_csv_t csv;
} dk_import_t;

static int
dk_import_read(dk_import_t *im, const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 65536, n;

    if (f == NULL)
        return dk_err_set(&im->job->err, "%s: %s", path, strerror(errno));
    im->data = malloc(cap);
    while (im->data != NULL &&
           (n = fread(im->data + im->len, 1, cap - im->len, f)) > 0) {
        im->len += n;
        if (im->len == cap) {
            char *p =
                cap < DK_IMPORT_MAX_BYTES ? realloc(im->data, cap * 2) : NULL;
            if (p == NULL) {
                fclose(f);
                return dk_err_set(&im->job->err, "%s: larger than %d bytes",
                                  path, DK_IMPORT_MAX_BYTES);
            }
            im->data = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (im->data == NULL)
        return dk_err_set(&im->job->err, "out of memory");
    return DK_OK;
}

/* 1 if these bytes were imported before. */
static int
dk_import_seen(dk_import_t *im, char *sha, size_t len)
{
    const char *params[] = {im->data};
    int lengths[] = {(int)im->len}, formats[] = {1};
    PGresult *res;
    int seen;

    if (dk_db_query_binary(im->job->db, &res,
                           "SELECT h, EXISTS (SELECT 1 FROM delivery_import"
                           "  WHERE sha256 = h)"
                           " FROM encode(sha256($1::bytea), 'hex') h",
                           1, params, lengths, formats) != DK_OK)
        return dk_err_set(&im->job->err, "%s", im->job->db->err.str);
    snprintf(sha, len, "%s", PQgetvalue(res, 0, 0));
    seen = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return seen;
}

static int
dk_import_apply(dk_import_t *im, const char *sha)
{
    dk_job_t *job = im->job;
    char run[24], import_id[24], attempts[16];
    const char *params[] = {run, job->input, sha};
    PGresult *res;
    int i;

    snprintf(run, sizeof(run), "%lld", job->run_id);
    if (dk_db_value(job->db, import_id, sizeof(import_id),
                    "INSERT INTO delivery_import (run_id, file_name, sha256)"
                    " VALUES (NULLIF($1, '0')::bigint, $2, $3) RETURNING id",
                    3, params) != DK_OK ||
        dk_db_exec(job->db,
                   "CREATE TEMP TABLE import_line"
                   " (LIKE delivery_import_line) ON COMMIT DROP",
                   0, NULL) != DK_OK ||
        dk_db_exec(job->db, "COPY import_line FROM STDIN", 0, NULL) != DK_OK ||
        (im->csv.copy_len > 0 &&
         dk_db_copy(job->db, im->csv.copy, im->csv.copy_len) != DK_OK) ||
        dk_db_copy_end(job->db) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);

    params[0] = import_id;
    params[1] = attempts;
    snprintf(attempts, sizeof(attempts), "%d", job->cfg->max_attempts);
    if (dk_db_query(
            job->db, &res,
            "SELECT bad_line, reason FROM delivery_import_apply($1, $2)", 2,
            params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    for (i = 0; i < PQntuples(res); i++)
        if (dk_import_csv_bad(&im->csv, atoi(PQgetvalue(res, i, 0)),
                              PQgetvalue(res, i, 1)) != DK_OK) {
            PQclear(res);
            return dk_err_set(&job->err, "out of memory");
        }
    PQclear(res);

    /* to_pickup: the documents this file sent back to an office */
    if (dk_db_query(job->db, &res,
                    "SELECT i.lines, i.applied, i.ignored,"
                    " (SELECT count(DISTINCT e.delivery_id)"
                    "    FROM delivery_event e JOIN delivery d"
                    "      ON d.id = e.delivery_id"
                    "   WHERE e.import_id = i.id AND d.status = 'returned')"
                    " FROM delivery_import i WHERE i.id = $1",
                    1, params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    dk_job_count(job, "applied", atoll(PQgetvalue(res, 0, 1)));
    dk_job_count(job, "ignored", atoll(PQgetvalue(res, 0, 2)));
    dk_job_count(job, "to_pickup", atoll(PQgetvalue(res, 0, 3)));
    PQclear(res);
    return DK_OK;
}

static int
dk_bad_cmp(const void *a, const void *b)
{
    return ((const dk_bad_line_t *)a)->line - ((const dk_bad_line_t *)b)->line;
}

static int
dk_import_refuse(dk_import_t *im)
{
    size_t i;
    char q[300], r[300];

    qsort(im->csv.bad, im->csv.nbad, sizeof(*im->csv.bad), dk_bad_cmp);
    for (i = 0; i < im->csv.nbad; i++) {
        dk_log_warn("import_bad_line", "file=%s line=%d reason=%s",
                    dk_log_quote(im->job->input, q, sizeof(q)),
                    im->csv.bad[i].line,
                    dk_log_quote(im->csv.bad[i].reason, r, sizeof(r)));
        printf("%s: line %d: %s\n", im->job->input, im->csv.bad[i].line,
               im->csv.bad[i].reason);
    }
    fflush(stdout);
    im->job->bad_input = 1;
    dk_job_count(im->job, "bad_lines", im->csv.nbad);
    return dk_err_set(&im->job->err, "%zu bad lines: the file was not imported",
                      im->csv.nbad);
}

static void
dk_import_free(dk_import_t *im)
{
    dk_import_csv_free(&im->csv);
    free(im->data);
}

int
dk_import_delivery(dk_job_t *job)
{
    dk_import_t im;
    char sha[65];
    int rc, seen;

    memset(&im, 0, sizeof(im));
    im.job = job;
    rc = dk_import_read(&im, job->input);
    if (rc == DK_OK)
        rc = dk_import_csv_parse(&im.csv, im.data, im.len, job->input,
                                 &job->err);
    dk_job_count(job, "lines", im.csv.good + (long long)im.csv.nbad);
    if (rc == DK_OK && !job->dry_run)
        rc = dk_db_begin(job->db) == DK_OK
                 ? DK_OK
                 : dk_err_set(&job->err, "%s", job->db->err.str);
    if (rc == DK_OK) {
        seen = dk_import_seen(&im, sha, sizeof(sha));
        if (seen == DK_ERR) {
            rc = DK_ERR;
        } else if (seen) {
            dk_log_info("import_already_done", "sha256=%s", sha);
            dk_job_count(job, "already_imported", 1);
            dk_db_rollback(job->db);
        } else if (job->dry_run) {
            printf("import-delivery plan (dry run): %lld lines of good "
                   "shape, %zu bad; deliveries not checked\n",
                   im.csv.good, im.csv.nbad);
            if (im.csv.nbad > 0)
                rc = dk_import_refuse(&im);
        } else {
            rc = dk_import_apply(&im, sha);
            if (rc == DK_OK && im.csv.nbad > 0)
                rc = dk_import_refuse(&im);
            dk_crash_point("import_before_commit");
            if (rc == DK_OK && dk_db_commit(job->db) != DK_OK)
                rc = dk_err_set(&job->err, "%s", job->db->err.str);
        }
    }
    dk_import_free(&im);
    return rc;
}
