/*
 * The file is read whole (a courier's upload is small), checked line by line
 * for shape here, then loaded with COPY and applied by
 * delivery_import_apply() in SQL, which checks each line against the
 * deliveries. Every bad line, from either check, is reported; any one of
 * them rolls the whole file back. The file's SHA-256 is recorded so that the
 * same file imported again changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "code.h"
#include "import.h"
#include "log.h"
#include "name.h"
#include "wib.h"

#define DK_IMPORT_MAX_BYTES (64 * 1024 * 1024)
#define DK_IMPORT_MAX_FIELDS 64

enum { COL_CODE, COL_RESI, COL_STATUS, COL_TIME, COL_RECEIVER, COL_NOTE, NCOL };

static const char *const dk_import_columns[NCOL] = {
    "tracking_code", "resi", "status", "time", "receiver", "note"};

typedef struct {
    int line;
    char *reason;
} dk_bad_line_t;

typedef struct {
    dk_job_t *job;
    char *file; /* the file's bytes, as the courier wrote them */
    char *data; /* a copy, unquoted and split in place by the reader */
    size_t len, pos;
    int line; /* physical line where the record being read starts */
    int next_line;
    char *field[DK_IMPORT_MAX_FIELDS];
    size_t nfields;
    int nul;    /* the record holds a NUL byte */
    char *copy; /* COPY text of the good lines */
    size_t copy_len, copy_cap;
    long long good;
    dk_bad_line_t *bad;
    size_t nbad, capbad;
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
    if (im->data == NULL || (im->file = malloc(im->len + 1)) == NULL)
        return dk_err_set(&im->job->err, "out of memory");
    im->data[im->len] = '\0';
    memcpy(im->file, im->data, im->len + 1);
    im->line = im->next_line = 1;
    /* a byte order mark is not part of the first column's name */
    if (im->len >= 3 && memcmp(im->data, "\xEF\xBB\xBF", 3) == 0)
        im->pos = 3;
    return DK_OK;
}

/* One RFC 4180 record, fields unquoted in place in the buffer: 1 when read,
 * 0 at the end, -1 for an unterminated quote. Quoted fields may hold commas,
 * quotes ("") and line breaks. */
static int
dk_import_record(dk_import_t *im)
{
    char *out;
    int quoted;

    im->nfields = 0;
    im->nul = 0;
    im->line = im->next_line;
    if (im->pos >= im->len)
        return 0;
    for (;;) {
        out = im->data + im->pos;
        if (im->nfields < DK_IMPORT_MAX_FIELDS)
            im->field[im->nfields] = out;
        im->nfields++;
        quoted = im->data[im->pos] == '"';
        if (quoted)
            im->pos++;
        for (;;) {
            char c = im->data[im->pos];

            if (im->pos >= im->len) {
                if (quoted)
                    return -1;
                break;
            }
            if (quoted && c == '"') {
                if (im->data[im->pos + 1] == '"') {
                    *out++ = '"';
                    im->pos += 2;
                    continue;
                }
                quoted = 0;
                im->pos++;
                continue;
            }
            if (!quoted && (c == ',' || c == '\n' || c == '\r'))
                break;
            if (c == '\n')
                im->next_line++;
            if (c == '\0') {
                /* kept out of the field, which would end there */
                im->nul = 1;
                c = '?';
            }
            *out++ = c;
            im->pos++;
        }
        if (im->pos < im->len && im->data[im->pos] == ',') {
            *out = '\0';
            im->pos++;
            continue;
        }
        if (im->pos < im->len && im->data[im->pos] == '\r')
            im->data[im->pos++] = '\0';
        if (im->pos < im->len && im->data[im->pos] == '\n')
            im->pos++;
        *out = '\0';
        im->next_line++;
        return 1;
    }
}

static int
dk_import_bad(dk_import_t *im, int line, const char *reason)
{
    if (im->nbad == im->capbad) {
        size_t cap = im->capbad ? im->capbad * 2 : 16;
        dk_bad_line_t *p = realloc(im->bad, cap * sizeof(*p));

        if (p == NULL)
            return DK_ERR;
        im->bad = p;
        im->capbad = cap;
    }
    im->bad[im->nbad].line = line;
    im->bad[im->nbad].reason = strdup(reason);
    if (im->bad[im->nbad].reason == NULL)
        return DK_ERR;
    im->nbad++;
    return DK_OK;
}

/* COPY text format: backslash, tab and line breaks escaped, NULL as \N. */
static int
dk_import_copy_field(dk_import_t *im, const char *s, int last)
{
    size_t need = 2 * strlen(s) + 4;
    const char *p;

    if (im->copy_len + need > im->copy_cap) {
        size_t cap = (im->copy_cap + need) * 2;
        char *c = realloc(im->copy, cap);

        if (c == NULL)
            return DK_ERR;
        im->copy = c;
        im->copy_cap = cap;
    }
    if (s[0] == '\0') {
        memcpy(im->copy + im->copy_len, "\\N", 2);
        im->copy_len += 2;
    }
    for (p = s; *p != '\0'; p++) {
        char c = *p;

        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            im->copy[im->copy_len++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
        im->copy[im->copy_len++] = c;
    }
    im->copy[im->copy_len++] = last > 0 ? '\n' : '\t';
    return DK_OK;
}

static int
dk_import_header(dk_import_t *im, int col[NCOL])
{
    size_t i;
    int c;

    if (dk_import_record(im) != 1)
        return dk_err_set(&im->job->err, "%s: no header row", im->job->input);
    for (c = 0; c < NCOL; c++) {
        col[c] = -1;
        for (i = 0; i < im->nfields && i < DK_IMPORT_MAX_FIELDS; i++) {
            if (strcmp(im->field[i], dk_import_columns[c]) == 0)
                col[c] = (int)i;
        }
        if (col[c] < 0 && c < COL_RECEIVER)
            return dk_err_set(&im->job->err, "%s: line 1: no column '%s'",
                              im->job->input, dk_import_columns[c]);
    }
    return DK_OK;
}

static char *
dk_import_value(dk_import_t *im, int col)
{
    static char empty[1];

    return col >= 0 && (size_t)col < im->nfields ? im->field[col] : empty;
}

/* A note may run over lines in a quoted field; the audit trail keeps one. */
static void
dk_import_flatten(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\r' || *s == '\n' || *s == '\t')
            *s = ' ';
    }
}

static int
dk_import_text_ok(const char *s, size_t max)
{
    return s[0] == '\0' || dk_text_valid(s, strlen(s), max) == 0;
}

/* The shape of one line; what it refers to is checked in SQL. */
static int
dk_import_line(dk_import_t *im, const int col[NCOL])
{
    const char *code = dk_import_value(im, col[COL_CODE]);
    const char *resi = dk_import_value(im, col[COL_RESI]);
    const char *status = dk_import_value(im, col[COL_STATUS]);
    const char *at = dk_import_value(im, col[COL_TIME]);
    char *receiver = dk_import_value(im, col[COL_RECEIVER]);
    char *note = dk_import_value(im, col[COL_NOTE]);
    char canonical[DK_CODE_LEN + 1], ts[32], line[16];
    int64_t unix_s;
    time_t t;
    struct tm tm;

    if (im->nfields > DK_IMPORT_MAX_FIELDS)
        return dk_import_bad(im, im->line, "more than 64 columns");
    if (im->nul)
        return dk_import_bad(im, im->line, "a NUL byte");
    if (dk_code_normalize(code, strlen(code), 'P', canonical) != 0)
        return dk_import_bad(im, im->line, "tracking_code is not a code");
    if (strcmp(status, "in_transit") != 0 && strcmp(status, "delivered") != 0 &&
        strcmp(status, "failed") != 0 && strcmp(status, "returned") != 0)
        return dk_import_bad(im, im->line,
                             "status must be in_transit, delivered, failed "
                             "or returned");
    if (dk_rfc3339_parse(at, strlen(at), &unix_s) != 0)
        return dk_import_bad(im, im->line, "time is not RFC 3339");
    if (resi[0] == '\0' || strlen(resi) > 64 || !dk_import_text_ok(resi, 64))
        return dk_import_bad(im, im->line, "resi must be 1..64 characters");
    dk_import_flatten(receiver);
    dk_import_flatten(note);
    if (!dk_import_text_ok(receiver, 200) || !dk_import_text_ok(note, 1000))
        return dk_import_bad(im, im->line,
                             "receiver or note is not valid text");

    t = (time_t)unix_s;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S+00", &tm);
    snprintf(line, sizeof(line), "%d", im->line);
    if (dk_import_copy_field(im, line, 0) != DK_OK ||
        dk_import_copy_field(im, canonical, 0) != DK_OK ||
        dk_import_copy_field(im, resi, 0) != DK_OK ||
        dk_import_copy_field(im, status, 0) != DK_OK ||
        dk_import_copy_field(im, ts, 0) != DK_OK ||
        dk_import_copy_field(im, receiver, 0) != DK_OK ||
        dk_import_copy_field(im, note, 1) != DK_OK)
        return DK_ERR;
    im->good++;
    return DK_OK;
}

static int
dk_import_parse(dk_import_t *im)
{
    int col[NCOL], rc;

    if (dk_import_header(im, col) != DK_OK)
        return DK_ERR;
    while ((rc = dk_import_record(im)) == 1) {
        if (im->nfields == 1 && im->field[0][0] == '\0')
            continue; /* an empty line */
        if (dk_import_line(im, col) != DK_OK)
            return dk_err_set(&im->job->err, "out of memory");
    }
    if (rc < 0 && dk_import_bad(im, im->line, "unterminated quote") != DK_OK)
        return dk_err_set(&im->job->err, "out of memory");
    return DK_OK;
}

/* 1 if these bytes were imported before. */
static int
dk_import_seen(dk_import_t *im, char *sha, size_t len)
{
    const char *params[] = {im->file};
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
    char run[24], import_id[24];
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
        (im->copy_len > 0 &&
         dk_db_copy(job->db, im->copy, im->copy_len) != DK_OK) ||
        dk_db_copy_end(job->db) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);

    params[0] = import_id;
    if (dk_db_query(job->db, &res,
                    "SELECT bad_line, reason FROM delivery_import_apply($1)", 1,
                    params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    for (i = 0; i < PQntuples(res); i++)
        if (dk_import_bad(im, atoi(PQgetvalue(res, i, 0)),
                          PQgetvalue(res, i, 1)) != DK_OK) {
            PQclear(res);
            return dk_err_set(&job->err, "out of memory");
        }
    PQclear(res);

    if (dk_db_query(job->db, &res,
                    "SELECT lines, applied, ignored FROM delivery_import"
                    " WHERE id = $1",
                    1, params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    dk_job_count(job, "applied", atoll(PQgetvalue(res, 0, 1)));
    dk_job_count(job, "ignored", atoll(PQgetvalue(res, 0, 2)));
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

    qsort(im->bad, im->nbad, sizeof(*im->bad), dk_bad_cmp);
    for (i = 0; i < im->nbad; i++) {
        dk_log_warn("import_bad_line", "file=%s line=%d reason=%s",
                    dk_log_quote(im->job->input, q, sizeof(q)), im->bad[i].line,
                    dk_log_quote(im->bad[i].reason, r, sizeof(r)));
        printf("%s: line %d: %s\n", im->job->input, im->bad[i].line,
               im->bad[i].reason);
    }
    fflush(stdout);
    im->job->bad_input = 1;
    dk_job_count(im->job, "bad_lines", im->nbad);
    return dk_err_set(&im->job->err, "%zu bad lines: the file was not imported",
                      im->nbad);
}

static void
dk_import_free(dk_import_t *im)
{
    size_t i;

    for (i = 0; i < im->nbad; i++)
        free(im->bad[i].reason);
    free(im->bad);
    free(im->copy);
    free(im->file);
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
        rc = dk_import_parse(&im);
    dk_job_count(job, "lines", im.good + (long long)im.nbad);
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
                   im.good, im.nbad);
            if (im.nbad > 0)
                rc = dk_import_refuse(&im);
        } else {
            rc = dk_import_apply(&im, sha);
            if (rc == DK_OK && im.nbad > 0)
                rc = dk_import_refuse(&im);
            dk_crash_point("import_before_commit");
            if (rc == DK_OK && dk_db_commit(job->db) != DK_OK)
                rc = dk_err_set(&job->err, "%s", job->db->err.str);
        }
    }
    dk_import_free(&im);
    return rc;
}
