/*
 * The booking script's answer: its lines, a line's "error", a booking's
 * outcome and detail, and the queue number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "script_answer.h"
#include "unit.h"

#define MAX_LINES 4

struct lines_case {
    const char *in;
    size_t len;
    size_t want;                  /* lines */
    const char *lines[MAX_LINES]; /* the first ones, NUL-terminated */
    const char *why;
};

static const struct lines_case lines_cases[] = {
    {S(""), 0, {NULL}, "an empty answer holds no line"},
    {S("ok 1"), 1, {"ok 1"}, "one line"},
    {S("ok 1\nfull\nbar 2026-12-14"),
     3,
     {"ok 1", "full", "bar 2026-12-14"},
     "three lines"},
    {S("ok 1\n"), 2, {"ok 1", ""}, "a trailing newline is an empty line"},
    {S("\n"), 2, {"", ""}, "a newline alone is two empty lines"},
    {S("\n\nok 2"), 3, {"", "", "ok 2"}, "empty lines first"},
    {S("a\nb\nc\nd\ne\nf"), 6, {"a", "b", "c", "d"}, "more lines than room"},
    {S("ok 1\r\nfull"), 2, {"ok 1\r", "full"}, "a CR stays in its line"},
};

static void
lines_table_of_cases(void **state)
{
    dk_span_t lines[MAX_LINES];
    size_t i, j, got, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(lines_cases); i++) {
        const struct lines_case *c = &lines_cases[i];
        char *in = exact_copy(c->in, c->len);

        got = dk_script_lines(in, c->len, lines, MAX_LINES);
        if (got != c->want) {
            print_error("case %zu (%s): %zu lines, want %zu\n", i, c->why, got,
                        c->want);
            failures++;
        }
        for (j = 0; got == c->want && j < got && j < MAX_LINES; j++) {
            if (lines[j].len != strlen(c->lines[j]) ||
                memcmp(lines[j].data, c->lines[j], lines[j].len) != 0 ||
                lines[j].data < in ||
                lines[j].data + lines[j].len > in + c->len) {
                print_error("case %zu (%s): line %zu is \"%.*s\"\n", i, c->why,
                            j, (int)lines[j].len, lines[j].data);
                failures++;
            }
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

static void
lines_writes_no_more_than_max(void **state)
{
    dk_span_t lines[3] = {{NULL, 7}, {NULL, 7}, {NULL, 7}};

    (void)state;
    assert_int_equal(dk_script_lines(S("a\nb\nc"), lines, 1), 3);
    assert_int_equal(lines[0].len, 1);
    assert_null(lines[1].data);
    assert_int_equal(lines[1].len, 7);
    assert_int_equal(dk_script_lines(S("a\nb"), NULL, 0), 2);
}

struct error_case {
    const char *in;
    size_t len;
    int want;
    const char *why; /* the reason when want is 1 */
};

static const struct error_case error_cases[] = {
    {S("error"), 1, ""},
    {S("error "), 1, ""},
    {S("error ERR wrong number of arguments"), 1,
     "ERR wrong number of arguments"},
    {S("error  two spaces"), 1, " two spaces"},
    {S("errors"), 0, NULL},
    {S("error\tx"), 0, NULL},
    {S("erro"), 0, NULL},
    {S("Error x"), 0, NULL},
    {S(" error x"), 0, NULL},
    {S("ok 1"), 0, NULL},
    {S(""), 0, NULL},
    {S("err\0r x"), 0, NULL},
};

static void
line_error_table_of_cases(void **state)
{
    dk_span_t why;
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(error_cases); i++) {
        const struct error_case *c = &error_cases[i];
        char *in = exact_copy(c->in, c->len);
        int got;

        why.data = NULL;
        why.len = 99;
        got = dk_script_line_error(in, c->len, &why);
        if (got != c->want ||
            (got == 1 && (why.len != strlen(c->why) ||
                          memcmp(why.data, c->why, why.len) != 0))) {
            print_error("case %zu (\"%.*s\"): got %d\n", i, (int)c->len, c->in,
                        got);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

struct book_case {
    const char *in;
    size_t len;
    int want;
    const char *outcome, *detail;
};

static const struct book_case book_cases[] = {
    {S("ok 17"), 0, "ok", "17"},
    {S("full"), 0, "full", ""},
    {S("bar 2026-12-14"), 0, "bar", "2026-12-14"},
    {S("bar "), 0, "bar", ""},
    {S("ok 1 2"), 0, "ok", "1 2"},
    {S(" ok"), 0, "", "ok"},
    {S("rebuilding"), 0, "rebuilding", ""},
    {S(""), -1, NULL, NULL},
    /* DK_BOOK_LINE_MAX bytes, then one more */
    {S("bar 012345678901234567890123456789012345678901234567890123456789"), 0,
     "bar", "012345678901234567890123456789012345678901234567890123456789"},
    {S("bar 012345678901234567890123456789012345678901234567890123456789x"), -1,
     NULL, NULL},
};

static void
book_line_table_of_cases(void **state)
{
    dk_span_t outcome, detail;
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(book_cases); i++) {
        const struct book_case *c = &book_cases[i];
        char *in = exact_copy(c->in, c->len);
        int got = dk_book_line(in, c->len, &outcome, &detail);

        if (got != c->want ||
            (got == 0 && (outcome.len != strlen(c->outcome) ||
                          memcmp(outcome.data, c->outcome, outcome.len) != 0 ||
                          detail.len != strlen(c->detail) ||
                          memcmp(detail.data, c->detail, detail.len) != 0))) {
            print_error("case %zu (\"%s\"): got %d\n", i, c->in, got);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

struct queue_case {
    const char *in;
    size_t len;
    int64_t want;
};

static const struct queue_case queue_cases[] = {
    {S("1"), 1},
    {S("17"), 17},
    {S("007"), 7},
    {S("150"), 150},
    {S("9223372036854775807"), INT64_MAX},
    {S("09223372036854775807"), INT64_MAX},
    {S("9223372036854775808"), -1},
    {S("99999999999999999999"), -1},
    {S("0"), -1},
    {S("000"), -1},
    {S(""), -1},
    {S("-1"), -1},
    {S("+1"), -1},
    {S(" 1"), -1},
    {S("1 "), -1},
    {S("1a"), -1},
    {S("1\0"), -1},
};

static void
queue_number_table_of_cases(void **state)
{
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(queue_cases); i++) {
        const struct queue_case *c = &queue_cases[i];
        char *in = exact_copy(c->in, c->len);
        int64_t got = dk_queue_number(in, c->len);

        if (got != c->want) {
            print_error("case %zu (\"%s\"): got %lld, want %lld\n", i, c->in,
                        (long long)got, (long long)c->want);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_table_of_cases),
        cmocka_unit_test(lines_writes_no_more_than_max),
        cmocka_unit_test(line_error_table_of_cases),
        cmocka_unit_test(book_line_table_of_cases),
        cmocka_unit_test(queue_number_table_of_cases),
    };

    return cmocka_run_group_tests_name("script_answer", tests, NULL, NULL);
}
