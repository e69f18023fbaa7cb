/*
 * The courier's CSV (scheduler/import_csv.c) as import-delivery reads it,
 * without the database. The input is the whole file. Besides not crashing,
 * leaking or writing to the caller's bytes (libFuzzer checks that), the
 * COPY text must hold exactly one row of seven columns per good line, in
 * the order of the file, and every bad line a reason.
 */
#include <string.h>

#include "fuzz.h"
#include "import_csv.h"

/* Each row of the COPY text: seven columns, tabs between them, none inside
 * one (import_csv escapes them), and a line number that grows. */
static void
check_copy(const dk_import_csv_t *csv)
{
    const char *p = csv->copy, *end, *nl;
    long long rows = 0;
    long line, last = 1;
    size_t i, tabs;

    if (p == NULL) {
        CHECK(csv->good == 0);
        return;
    }
    end = p + csv->copy_len;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        CHECK(nl != NULL);
        for (i = 0, tabs = 0; p + i < nl; i++) {
            CHECK(p[i] != '\r' && p[i] != '\0');
            tabs += p[i] == '\t';
        }
        CHECK(tabs == 6);
        line = strtol(p, NULL, 10);
        CHECK(line > last);
        last = line;
        rows++;
        p = nl + 1;
    }
    CHECK(rows == csv->good);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_import_csv_t csv;
    dk_err_t err;
    size_t i;

    memset(&csv, 0, sizeof(csv));
    err.str[0] = '\0';
    if (dk_import_csv_parse(&csv, (const char *)data, size, "fuzz.csv", &err) !=
        DK_OK) {
        CHECK(err.str[0] != '\0');
        CHECK(strncmp(err.str, "fuzz.csv: ", 10) == 0 ||
              strcmp(err.str, "out of memory") == 0);
    } else {
        check_copy(&csv);
        for (i = 0; i < csv.nbad; i++) {
            CHECK(csv.bad[i].line >= 2);
            CHECK(csv.bad[i].reason != NULL && csv.bad[i].reason[0] != '\0');
            CHECK(i == 0 || csv.bad[i].line >= csv.bad[i - 1].line);
        }
    }
    dk_import_csv_free(&csv);
    return 0;
}
