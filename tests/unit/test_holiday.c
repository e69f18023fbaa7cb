#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "holiday.h"
#include "unit.h"
#include "wib.h"

struct line_case {
    const char *in;
    size_t len;
    int want;
    const char *date;   /* want 0 */
    const char *reason; /* want 0; or, want -1, what why says */
};

static const struct line_case cases[] = {
    {S("2027-12-25,Hari Raya Natal"), 0, "2027-12-25",
     "Libur Nasional: Hari Raya Natal"},
    {S("2027-12-24,Cuti Bersama Hari Raya Natal"), 0, "2027-12-24",
     "Cuti Bersama Hari Raya Natal"},
    {S("2027-03-12,cuti bersama Idul Fitri"), 0, "2027-03-12",
     "cuti bersama Idul Fitri"},
    {S("2027-01-01,Tahun Baru 2027 Masehi\r"), 0, "2027-01-01",
     "Libur Nasional: Tahun Baru 2027 Masehi"},
    {S("2027-03-10,\"Hari Raya Idul Fitri 1448 H, hari pertama\""), 0,
     "2027-03-10", "Libur Nasional: Hari Raya Idul Fitri 1448 H, hari pertama"},
    {S("\"2027-08-17\",\"Hari \"\"Kemerdekaan\"\" RI\""), 0, "2027-08-17",
     "Libur Nasional: Hari \"Kemerdekaan\" RI"},
    {S("2027-06-01,  Hari Lahir Pancasila  "), 0, "2027-06-01",
     "Libur Nasional: Hari Lahir Pancasila"},
    {S("2027-02-06,Tahun Baru Imlek 2578 Kongzili \xE6\x98\xA5"), 0,
     "2027-02-06",
     "Libur Nasional: Tahun Baru Imlek 2578 Kongzili \xE6\x98\xA5"},
    {S(""), 1, NULL, NULL},
    {S("\r"), 1, NULL, NULL},
    {S("   \t"), 1, NULL, NULL},
    {S("# contoh: periksa dengan SKB"), 1, NULL, NULL},
    {S("  # indented comment"), 1, NULL, NULL},
    {S("2027-12-25"), -1, NULL, "two columns are needed: date,name"},
    {S("2027-12-25,Natal,libur"), -1, NULL, "more than two columns: date,name"},
    {S("2027-12-25,Natal,"), -1, NULL, "more than two columns: date,name"},
    {S("25/12/2027,Natal"), -1, NULL, "date is not a date YYYY-MM-DD"},
    {S("2027-02-30,Natal"), -1, NULL, "date is not a date YYYY-MM-DD"},
    {S(" 2027-12-25,Natal"), -1, NULL, "date is not a date YYYY-MM-DD"},
    {S("2027-12-25,"), -1, NULL,
     "name must be text of 1 to 150 characters on one line"},
    {S("2027-12-25,   "), -1, NULL,
     "name must be text of 1 to 150 characters on one line"},
    {S("2027-12-25,Na\ttal"), -1, NULL,
     "name must be text of 1 to 150 characters on one line"},
    {S("2027-12-25,Na\xC3tal"), -1, NULL,
     "name must be text of 1 to 150 characters on one line"},
    {S("2027-12-25,Na\0tal"), -1, NULL, "a NUL byte"},
    {S("2027-12-25,\"Natal"), -1, NULL, "a quote is left open"},
    {S("2027-12-25,\"Natal\" x"), -1, NULL, "text after a closing quote"},
    {S("2027-12-25,Hari \"Natal\""), -1, NULL,
     "a quote inside an unquoted field"},
};

static void
lines_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        const struct line_case *c = &cases[i];
        char *in = exact_copy(c->in, c->len);
        char date[DK_DATE_LEN + 1];
        const char *why = NULL;
        dk_holiday h;
        int rc = dk_holiday_parse(in, c->len, &h, &why);

        if (rc != c->want)
            fail_msg("%s: answered %d (%s)", c->in, rc, why ? why : "");
        if (rc == 0) {
            dk_date_format(h.day, date);
            if (strcmp(date, c->date) != 0 || strcmp(h.reason, c->reason) != 0)
                fail_msg("%s: %s %s", c->in, date, h.reason);
        }
        if (rc < 0 && strcmp(why, c->reason) != 0)
            fail_msg("%s: why %s", c->in, why);
        free(in);
    }
}

static void
a_name_of_150_characters_fits_and_151_do_not(void **state)
{
    char line[16 + 4 * 151 + 1];
    const char *why = NULL;
    dk_holiday h;
    size_t n, i;

    (void)state;
    /* 150 four-byte code points: the longest name there may be */
    n = (size_t)snprintf(line, sizeof(line), "2027-12-25,");
    for (i = 0; i < 150; i++, n += 4)
        memcpy(line + n, "\xF0\x9F\x8E\x84", 4);
    assert_int_equal(dk_holiday_parse(line, n, &h, &why), 0);
    assert_int_equal(strlen(h.reason), sizeof("Libur Nasional: ") - 1 + 600);
    memcpy(line + n, "\xF0\x9F\x8E\x84", 4);
    assert_int_equal(dk_holiday_parse(line, n + 4, &h, &why), -1);
}

static void
the_header(void **state)
{
    (void)state;
    assert_int_equal(dk_holiday_header(S("date,name")), 1);
    assert_int_equal(dk_holiday_header(S("Date,Name\r")), 1);
    assert_int_equal(dk_holiday_header(S("date;name")), 0);
    assert_int_equal(dk_holiday_header(S("date,name,")), 0);
    assert_int_equal(dk_holiday_header(S("2027-01-01,Tahun Baru")), 0);
}

static void
a_reason_that_does_not_fit_is_refused(void **state)
{
    char out[24];

    (void)state;
    assert_int_equal(dk_holiday_reason(out, sizeof(out), S("Natal")), 21);
    assert_int_equal(dk_holiday_reason(out, sizeof(out), S("Hari Raya Natal")),
                     -1);
    assert_int_equal(dk_holiday_reason(out, sizeof(out), S("Cuti Bersama X")),
                     14);
    assert_string_equal(out, "Cuti Bersama X");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_table_of_cases),
        cmocka_unit_test(a_name_of_150_characters_fits_and_151_do_not),
        cmocka_unit_test(the_header),
        cmocka_unit_test(a_reason_that_does_not_fit_is_refused),
    };

    return cmocka_run_group_tests_name("holiday", tests, NULL, NULL);
}
