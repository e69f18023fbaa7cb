/*
 * The courier's CSV of delivery results, read and checked for shape without
 * the database: RFC 4180 records, columns found by name in the header row,
 * each line's code, status, time and text checked, and the good lines turned
 * into the COPY text that import.c loads.
 */
#ifndef DK_IMPORT_CSV_H
#define DK_IMPORT_CSV_H

#include <stddef.h>

#include "status.h"

typedef struct {
    int line;
    char *reason;
} dk_bad_line_t;

typedef struct {
    /* COPY text (tab-separated) of the good lines: line number, canonical
     * code, resi, status, time (UTC), receiver, note */
    char *copy;
    size_t copy_len, copy_cap;
    long long good;
    /* the bad lines, in the order found, each with its reason */
    dk_bad_line_t *bad;
    size_t nbad, capbad;
} dk_import_csv_t;

/* Reads the file data[0..len), which it does not change and which needs no
 * NUL, into csv (zeroed by the caller). A bad line is no error: it is added
 * to csv->bad. DK_ERR, with err naming the file as name, when the file has no
 * header row or the header lacks a required column, or memory runs out. */
int dk_import_csv_parse(dk_import_csv_t *csv, const char *data, size_t len,
                        const char *name, dk_err_t *err);

/* Adds a bad line (the reason is copied); DK_ERR when out of memory. */
int dk_import_csv_bad(dk_import_csv_t *csv, int line, const char *reason);

void dk_import_csv_free(dk_import_csv_t *csv);

#endif
