#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"
#include "wib.h"

/* 2026-11-30T17:00:00Z, the instant 2026-12-01 begins in WIB */
#define DEC_1_WIB_MIDNIGHT 1796058000
#define DAY_2026_12_01 20788

static void
utc_evening_is_next_day_in_wib(void **state)
{
    (void)state;
    assert_int_equal(dk_wib_today(DEC_1_WIB_MIDNIGHT + 30 * 60),
                     DAY_2026_12_01); /* 17:30 UTC */
    assert_int_equal(dk_wib_today(DEC_1_WIB_MIDNIGHT), DAY_2026_12_01);
}

static void
utc_before_five_pm_is_same_day_in_wib(void **state)
{
    (void)state;
    assert_int_equal(dk_wib_today(DEC_1_WIB_MIDNIGHT - 1),
                     DAY_2026_12_01 - 1); /* 16:59:59 UTC */
    assert_int_equal(dk_wib_today(0), 0);
    assert_int_equal(dk_wib_today(-DK_WIB_OFFSET - 1), -1);
}

/* The first and last instants of time_t: the 7 hours are added without
 * overflowing (found by tests/fuzz/fuzz_validators). A day past the int32
 * range wraps as the conversion does. */
static void
today_at_the_ends_of_time_t(void **state)
{
    (void)state;
    assert_int_equal(dk_wib_today(INT64_MAX), (int32_t)(INT64_MAX / 86400));
    /* INT64_MAX is 55807 s into a UTC day: its WIB day began 7 h before */
    assert_int_equal(dk_wib_today(INT64_MAX - 55807 - 25200),
                     (int32_t)(INT64_MAX / 86400));
    assert_int_equal(dk_wib_today(INT64_MAX - 55807 - 25201),
                     (int32_t)(INT64_MAX / 86400 - 1));
    assert_int_equal(dk_wib_today(INT64_MIN), (int32_t)(INT64_MIN / 86400 - 1));
    assert_int_equal(dk_wib_today(INT64_MIN + 55808 - 25200),
                     (int32_t)(INT64_MIN / 86400));
}

struct date_case {
    const char *in;
    size_t len;
    int want;    /* 0 or -1 */
    int32_t day; /* when valid */
    int weekday;
};

static const struct date_case dates[] = {
    {S("2026-12-01"), 0, DAY_2026_12_01, 2},
    {S("2000-01-01"), 0, 10957, 6},
    {S("2024-02-29"), 0, 19782, 4},
    {S("2026-08-17"), 0, 20682, 1},
    {S("2100-02-28"), 0, 47540, 0},
    {S("2100-03-01"), 0, 47541, 1},
    {S("2199-12-31"), 0, 84005, 2},
    {S("2026-02-30"), -1, 0, 0},
    {S("2026-02-29"), -1, 0, 0},
    {S("2100-02-29"), -1, 0, 0},
    {S("2026-04-31"), -1, 0, 0},
    {S("2026-13-01"), -1, 0, 0},
    {S("2026-00-10"), -1, 0, 0},
    {S("2026-01-00"), -1, 0, 0},
    {S("2026-2-01"), -1, 0, 0},
    {S("2026-12-01x"), -1, 0, 0},
    {S("2026/12/01"), -1, 0, 0},
    {S("1999-12-31"), -1, 0, 0},
    {S("2200-01-01"), -1, 0, 0},
    {S("+026-12-01"), -1, 0, 0},
    {S("2026-12-0\0"), -1, 0, 0},
    {S(""), -1, 0, 0},
};

static void
date_parse_table_of_cases(void **state)
{
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(dates); i++) {
        char *in = exact_copy(dates[i].in, dates[i].len);
        int32_t day = -12345;
        int got = dk_date_parse(in, dates[i].len, &day);

        if (got != dates[i].want || (got == 0 && day != dates[i].day)) {
            print_error("case %zu \"%s\": got %d day %d, want %d day %d\n", i,
                        dates[i].in, got, (int)day, dates[i].want,
                        (int)dates[i].day);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

static void
weekday_and_format_of_known_dates(void **state)
{
    char out[DK_DATE_LEN + 1];
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(dates); i++) {
        if (dates[i].want != 0)
            continue;
        assert_int_equal(dk_date_weekday(dates[i].day), dates[i].weekday);
        dk_date_format(dates[i].day, out);
        assert_string_equal(out, dates[i].in);
    }
    assert_int_equal(dk_date_weekday(0), 4); /* 1970-01-01, a Thursday */
    assert_int_equal(dk_date_weekday(-1), 3);
    assert_int_equal(dk_date_weekday(-7), 4);
}

static void
format_and_parse_round_trip_every_day(void **state)
{
    char out[DK_DATE_LEN + 1];
    int32_t first, last, d, back;

    (void)state;
    assert_int_equal(dk_date_parse("2000-01-01", 10, &first), 0);
    assert_int_equal(dk_date_parse("2199-12-31", 10, &last), 0);
    for (d = first; d <= last; d++) {
        dk_date_format(d, out);
        assert_int_equal(dk_date_parse(out, DK_DATE_LEN, &back), 0);
        assert_int_equal(back, d);
        assert_int_equal(dk_date_weekday(d + 1), (dk_date_weekday(d) + 1) % 7);
    }
}

static void
format_of_absurd_day_stays_in_bounds(void **state)
{
    char out[DK_DATE_LEN + 1];

    (void)state;
    dk_date_format(INT32_MAX, out);
    assert_string_equal(out, "0000-00-00");
    dk_date_format(INT32_MIN, out);
    assert_string_equal(out, "0000-00-00");
    dk_date_format(0, out);
    assert_string_equal(out, "1970-01-01");
}

static void
rfc3339_wib_shows_local_time_with_offset(void **state)
{
    char out[DK_RFC3339_MAX];
    int64_t us = (int64_t)(DEC_1_WIB_MIDNIGHT + 8 * 3600) * 1000000;

    (void)state;
    assert_int_equal(dk_rfc3339_wib(us, out), 25);
    assert_string_equal(out, "2026-12-01T08:00:00+07:00");

    /* sub-second digits are dropped, never rounded up */
    assert_int_equal(dk_rfc3339_wib(us + 999999, out), 25);
    assert_string_equal(out, "2026-12-01T08:00:00+07:00");

    dk_rfc3339_wib(-1, out); /* just before the epoch */
    assert_string_equal(out, "1970-01-01T06:59:59+07:00");

    dk_rfc3339_wib((int64_t)(DEC_1_WIB_MIDNIGHT - 1) * 1000000, out);
    assert_string_equal(out, "2026-11-30T23:59:59+07:00");
}

struct rfc3339_case {
    const char *in;
    size_t len;
    int want;
    int64_t unix_s;
};

static const struct rfc3339_case stamps[] = {
    {S("2026-12-01T08:00:00+07:00"), 0, 1796086800},
    {S("2026-12-01T01:00:00Z"), 0, 1796086800},
    {S("2026-12-01T01:00:00z"), 0, 1796086800},
    {S("2026-12-01t01:00:00Z"), 0, 1796086800},
    {S("2026-12-01 01:00:00Z"), 0, 1796086800},
    {S("2026-12-01T08:00:00.123+07:00"), 0, 1796086800},
    {S("2026-12-01T01:00:00.123456789Z"), 0, 1796086800},
    {S("2026-12-01T01:00:00-00:00"), 0, 1796086800},
    {S("2026-05-04T10:11:12-03:30"), 0, 1777902072},
    {S("2026-12-01T00:59:60Z"), 0, 1796086800},
    {S("1970-01-01T00:00:00Z"), 0, 0},
    {S("2026-12-01T08:00:00"), -1, 0},
    {S("2026-12-01T08:00:00+0700"), -1, 0},
    {S("2026-12-01T08:00:00+07"), -1, 0},
    {S("2026-12-01T08:00:00.+07:00"), -1, 0},
    {S("2026-12-01T01:00:00.1234567890Z"), -1, 0},
    {S("2026-12-01T24:00:00Z"), -1, 0},
    {S("2026-12-01T23:60:00Z"), -1, 0},
    {S("2026-12-01T23:59:61Z"), -1, 0},
    {S("2026-12-01T08:00:00+24:00"), -1, 0},
    {S("2026-12-01T08:00:00+07:60"), -1, 0},
    {S("2026-02-30T08:00:00Z"), -1, 0},
    {S("2026-12-01T8:00:00Z"), -1, 0},
    {S("2026-12-01X08:00:00Z"), -1, 0},
    {S("2026-12-01T08:00:00Zjunk"), -1, 0},
    {S("2026-12-01T08:00:00+07:00 "), -1, 0},
    {S("2026-12-01"), -1, 0},
    {S(""), -1, 0},
};

static void
rfc3339_parse_table_of_cases(void **state)
{
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(stamps); i++) {
        char *in = exact_copy(stamps[i].in, stamps[i].len);
        int64_t t = -12345;
        int got = dk_rfc3339_parse(in, stamps[i].len, &t);

        if (got != stamps[i].want || (got == 0 && t != stamps[i].unix_s)) {
            print_error("case %zu \"%s\": got %d t %lld, want %d t %lld\n", i,
                        stamps[i].in, got, (long long)t, stamps[i].want,
                        (long long)stamps[i].unix_s);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

static void
rfc3339_wib_output_parses_back(void **state)
{
    char out[DK_RFC3339_MAX];
    int64_t t, s;

    (void)state;
    for (s = DEC_1_WIB_MIDNIGHT - 86400; s < DEC_1_WIB_MIDNIGHT + 86400;
         s += 4321) {
        size_t n = dk_rfc3339_wib(s * 1000000, out);

        assert_int_equal(dk_rfc3339_parse(out, n, &t), 0);
        assert_int_equal(t, s);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utc_evening_is_next_day_in_wib),
        cmocka_unit_test(utc_before_five_pm_is_same_day_in_wib),
        cmocka_unit_test(today_at_the_ends_of_time_t),
        cmocka_unit_test(date_parse_table_of_cases),
        cmocka_unit_test(weekday_and_format_of_known_dates),
        cmocka_unit_test(format_and_parse_round_trip_every_day),
        cmocka_unit_test(format_of_absurd_day_stays_in_bounds),
        cmocka_unit_test(rfc3339_wib_shows_local_time_with_offset),
        cmocka_unit_test(rfc3339_parse_table_of_cases),
        cmocka_unit_test(rfc3339_wib_output_parses_back),
    };

    return cmocka_run_group_tests_name("wib", tests, NULL, NULL);
}
