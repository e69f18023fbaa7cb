/*
 * The reader works on its own copy of the file, which it unquotes and splits
 * in place: the caller's bytes stay the file's, which import.c hashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "code.h"
#include "import_csv.h"
#include "name.h"
#include "wib.h"

#define DK_IMPORT_MAX_FIELDS 64

enum { COL_CODE, COL_RESI, COL_STATUS, COL_TIME, COL_RECEIVER, COL_NOTE, NCOL };

static const char *const dk_import_columns[NCOL] = {
    "tracking_code", "resi", "status", "time", "receiver", "note"};

typedef struct {
    dk_import_csv_t *csv;
    const char *name;
    dk_err_t *err;
    char *data; /* the copy, NUL-terminated */
    size_t len, pos;
    int line; /* physical line where the record being read starts */
    int next_line;
    char *field[DK_IMPORT_MAX_FIELDS];
    size_t nfields;
    int nul; /* the record holds a NUL byte */
} dk_csv_reader_t;

/* One RFC 4180 record, fields unquoted in place in the buffer: 1 when read,
 * 0 at the end, -1 for an unterminated quote. Quoted fields may hold commas,
 * quotes ("") and line breaks. */
static int
dk_csv_record(dk_csv_reader_t *r)
{
    char *out;
    int quoted;

    r->nfields = 0;
    r->nul = 0;
    r->line = r->next_line;
    if (r->pos >= r->len)
        return 0;
    for (;;) {
        out = r->data + r->pos;
        if (r->nfields < DK_IMPORT_MAX_FIELDS)
            r->field[r->nfields] = out;
        r->nfields++;
        quoted = r->data[r->pos] == '"';
        if (quoted)
            r->pos++;
        for (;;) {
            char c = r->data[r->pos];

            if (r->pos >= r->len) {
                if (quoted)
                    return -1;
                break;
            }
            if (quoted && c == '"') {
                if (r->data[r->pos + 1] == '"') {
                    *out++ = '"';
                    r->pos += 2;
                    continue;
                }
                quoted = 0;
                r->pos++;
                continue;
            }
            if (!quoted && (c == ',' || c == '\n' || c == '\r'))
                break;
            if (c == '\n')
                r->next_line++;
            if (c == '\0') {
                /* kept out of the field, which would end there */
                r->nul = 1;
                c = '?';
            }
            *out++ = c;
            r->pos++;
        }
        if (r->pos < r->len && r->data[r->pos] == ',') {
            *out = '\0';
            r->pos++;
            continue;
        }
        if (r->pos < r->len && r->data[r->pos] == '\r')
            r->data[r->pos++] = '\0';
        if (r->pos < r->len && r->data[r->pos] == '\n')
            r->pos++;
        *out = '\0';
        r->next_line++;
        return 1;
    }
}

int
dk_import_csv_bad(dk_import_csv_t *csv, int line, const char *reason)
{
    if (csv->nbad == csv->capbad) {
        size_t cap = csv->capbad ? csv->capbad * 2 : 16;
        dk_bad_line_t *p = realloc(csv->bad, cap * sizeof(*p));

        if (p == NULL)
            return DK_ERR;
        csv->bad = p;
        csv->capbad = cap;
    }
    csv->bad[csv->nbad].line = line;
    csv->bad[csv->nbad].reason = strdup(reason);
    if (csv->bad[csv->nbad].reason == NULL)
        return DK_ERR;
    csv->nbad++;
    return DK_OK;
}

/* COPY text format: backslash, tab and line breaks escaped, NULL as \N. */
static int
dk_csv_copy_field(dk_import_csv_t *csv, const char *s, int last)
{
    size_t need = 2 * strlen(s) + 4;
    const char *p;

    if (csv->copy_len + need > csv->copy_cap) {
        size_t cap = (csv->copy_cap + need) * 2;
        char *c = realloc(csv->copy, cap);

        if (c == NULL)
            return DK_ERR;
        csv->copy = c;
        csv->copy_cap = cap;
    }
    if (s[0] == '\0') {
        memcpy(csv->copy + csv->copy_len, "\\N", 2);
        csv->copy_len += 2;
    }
    for (p = s; *p != '\0'; p++) {
        char c = *p;

        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            csv->copy[csv->copy_len++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
        csv->copy[csv->copy_len++] = c;
    }
    csv->copy[csv->copy_len++] = last > 0 ? '\n' : '\t';
    return DK_OK;
}

static int
dk_csv_header(dk_csv_reader_t *r, int col[NCOL])
{
    size_t i;
    int c;

    if (dk_csv_record(r) != 1)
        return dk_err_set(r->err, "%s: no header row", r->name);
    for (c = 0; c < NCOL; c++) {
        col[c] = -1;
        for (i = 0; i < r->nfields && i < DK_IMPORT_MAX_FIELDS; i++) {
            if (strcmp(r->field[i], dk_import_columns[c]) == 0)
                col[c] = (int)i;
        }
        if (col[c] < 0 && c < COL_RECEIVER)
            return dk_err_set(r->err, "%s: line 1: no column '%s'", r->name,
                              dk_import_columns[c]);
    }
    return DK_OK;
}

static char *
dk_csv_value(dk_csv_reader_t *r, int col)
{
    static char empty[1];

    return col >= 0 && (size_t)col < r->nfields ? r->field[col] : empty;
}

/* A note may run over lines in a quoted field; the audit trail keeps one. */
static void
dk_csv_flatten(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\r' || *s == '\n' || *s == '\t')
            *s = ' ';
    }
}

static int
dk_csv_text_ok(const char *s, size_t max)
{
    return s[0] == '\0' || dk_text_valid(s, strlen(s), max) == 0;
}

/* The shape of one line; what it refers to is checked in SQL. */
static int
dk_csv_line(dk_csv_reader_t *r, const int col[NCOL])
{
    const char *code = dk_csv_value(r, col[COL_CODE]);
    const char *resi = dk_csv_value(r, col[COL_RESI]);
    const char *status = dk_csv_value(r, col[COL_STATUS]);
    const char *at = dk_csv_value(r, col[COL_TIME]);
    char *receiver = dk_csv_value(r, col[COL_RECEIVER]);
    char *note = dk_csv_value(r, col[COL_NOTE]);
    char canonical[DK_CODE_LEN + 1], ts[32], line[16];
    int64_t unix_s;
    time_t t;
    struct tm tm;

    if (r->nfields > DK_IMPORT_MAX_FIELDS)
        return dk_import_csv_bad(r->csv, r->line, "more than 64 columns");
    if (r->nul)
        return dk_import_csv_bad(r->csv, r->line, "a NUL byte");
    if (dk_code_normalize(code, strlen(code), 'P', canonical) != 0)
        return dk_import_csv_bad(r->csv, r->line,
                                 "tracking_code is not a code");
    if (strcmp(status, "in_transit") != 0 && strcmp(status, "delivered") != 0 &&
        strcmp(status, "failed") != 0 && strcmp(status, "returned") != 0)
        return dk_import_csv_bad(r->csv, r->line,
                                 "status must be in_transit, delivered, failed "
                                 "or returned");
    if (dk_rfc3339_parse(at, strlen(at), &unix_s) != 0)
        return dk_import_csv_bad(r->csv, r->line, "time is not RFC 3339");
    if (resi[0] == '\0' || strlen(resi) > 64 || !dk_csv_text_ok(resi, 64))
        return dk_import_csv_bad(r->csv, r->line,
                                 "resi must be 1..64 characters");
    dk_csv_flatten(receiver);
    dk_csv_flatten(note);
    if (!dk_csv_text_ok(receiver, 200) || !dk_csv_text_ok(note, 1000))
        return dk_import_csv_bad(r->csv, r->line,
                                 "receiver or note is not valid text");

    t = (time_t)unix_s;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S+00", &tm);
    snprintf(line, sizeof(line), "%d", r->line);
    if (dk_csv_copy_field(r->csv, line, 0) != DK_OK ||
        dk_csv_copy_field(r->csv, canonical, 0) != DK_OK ||
        dk_csv_copy_field(r->csv, resi, 0) != DK_OK ||
        dk_csv_copy_field(r->csv, status, 0) != DK_OK ||
        dk_csv_copy_field(r->csv, ts, 0) != DK_OK ||
        dk_csv_copy_field(r->csv, receiver, 0) != DK_OK ||
        dk_csv_copy_field(r->csv, note, 1) != DK_OK)
        return DK_ERR;
    r->csv->good++;
    return DK_OK;
}

static int
dk_csv_parse(dk_csv_reader_t *r)
{
    int col[NCOL], rc;

    if (dk_csv_header(r, col) != DK_OK)
        return DK_ERR;
    while ((rc = dk_csv_record(r)) == 1) {
        if (r->nfields == 1 && r->field[0][0] == '\0')
            continue; /* an empty line */
        if (dk_csv_line(r, col) != DK_OK)
            return dk_err_set(r->err, "out of memory");
    }
    if (rc < 0 &&
        dk_import_csv_bad(r->csv, r->line, "unterminated quote") != DK_OK)
        return dk_err_set(r->err, "out of memory");
    return DK_OK;
}

int
dk_import_csv_parse(dk_import_csv_t *csv, const char *data, size_t len,
                    const char *name, dk_err_t *err)
{
    dk_csv_reader_t r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.csv = csv;
    r.name = name;
    r.err = err;
    r.data = malloc(len + 1);
    if (r.data == NULL)
        return dk_err_set(err, "out of memory");
    if (len > 0)
        memcpy(r.data, data, len);
    r.data[len] = '\0';
    r.len = len;
    r.line = r.next_line = 1;
    /* a byte order mark is not part of the first column's name */
    if (len >= 3 && memcmp(r.data, "\xEF\xBB\xBF", 3) == 0)
        r.pos = 3;
    rc = dk_csv_parse(&r);
    free(r.data);
    return rc;
}

void
dk_import_csv_free(dk_import_csv_t *csv)
{
    size_t i;

    for (i = 0; i < csv->nbad; i++)
        free(csv->bad[i].reason);
    free(csv->bad);
    free(csv->copy);
    memset(csv, 0, sizeof(*csv));
}
