#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "budget.h"
#include "unit.h"
#include "wib.h"

static int32_t
day_of(const char *s)
{
    int32_t day;

    assert_int_equal(dk_date_parse(s, strlen(s), &day), 0);
    return day;
}

struct period_case {
    const char *start; /* MM-DD */
    int months;
    const char *day;
    const char *first, *last;
};

static const struct period_case periods[] = {
    /* DAK: the calendar year */
    {"01-01", 12, "2026-01-01", "2026-01-01", "2026-12-31"},
    {"01-01", 12, "2026-07-15", "2026-01-01", "2026-12-31"},
    {"01-01", 12, "2026-12-31", "2026-01-01", "2026-12-31"},
    {"01-01", 12, "2027-01-01", "2027-01-01", "2027-12-31"},
    {"01-01", 12, "2028-02-29", "2028-01-01", "2028-12-31"},
    /* a fiscal year from April */
    {"04-01", 12, "2026-03-31", "2025-04-01", "2026-03-31"},
    {"04-01", 12, "2026-04-01", "2026-04-01", "2027-03-31"},
    /* a start day inside the month: the day before still belongs to the
     * period before */
    {"06-15", 12, "2026-06-14", "2025-06-15", "2026-06-14"},
    {"06-15", 12, "2026-06-15", "2026-06-15", "2027-06-14"},
    {"12-28", 12, "2026-12-27", "2025-12-28", "2026-12-27"},
    {"12-28", 12, "2026-12-28", "2026-12-28", "2027-12-27"},
    {"12-28", 12, "2027-01-05", "2026-12-28", "2027-12-27"},
    /* shorter periods, anchored on the start month */
    {"01-01", 1, "2026-02-28", "2026-02-01", "2026-02-28"},
    {"01-01", 1, "2024-02-29", "2024-02-01", "2024-02-29"},
    {"01-10", 1, "2026-03-09", "2026-02-10", "2026-03-09"},
    {"01-01", 3, "2026-05-20", "2026-04-01", "2026-06-30"},
    {"02-01", 3, "2026-01-31", "2025-11-01", "2026-01-31"},
    {"02-01", 3, "2026-02-01", "2026-02-01", "2026-04-30"},
    {"07-01", 6, "2026-06-30", "2026-01-01", "2026-06-30"},
    {"07-01", 6, "2026-07-01", "2026-07-01", "2026-12-31"},
    {"03-05", 4, "2026-03-04", "2025-11-05", "2026-03-04"},
    {"01-01", 2, "2026-12-31", "2026-11-01", "2026-12-31"},
};

static void
the_period_of_a_day_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(periods); i++) {
        const struct period_case *c = &periods[i];
        dk_budget_rule_t rule;
        int32_t first, last;
        char a[DK_DATE_LEN + 1], b[DK_DATE_LEN + 1];

        assert_int_equal(dk_budget_start_parse(c->start, 5, &rule), 0);
        rule.months = c->months;
        dk_budget_period(&rule, day_of(c->day), &first, &last);
        dk_date_format(first, a);
        dk_date_format(last, b);
        if (strcmp(a, c->first) != 0 || strcmp(b, c->last) != 0)
            fail_msg("case %zu: %s every %d months from %s: %s..%s, want "
                     "%s..%s",
                     i, c->day, c->months, c->start, a, b, c->first, c->last);
    }
}

/* every day of four years belongs to exactly one period, and the next one
 * starts the day after */
static void
periods_tile_the_calendar_without_gap_or_overlap(void **state)
{
    static const int lengths[] = {1, 2, 3, 4, 6, 12};
    dk_budget_rule_t rule = {3, 17, 12};
    int32_t day, first, last, prev_last, from = day_of("2025-01-01");
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(lengths); i++) {
        rule.months = lengths[i];
        dk_budget_period(&rule, from, &first, &prev_last);
        for (day = from; day < from + 4 * 366; day++) {
            dk_budget_period(&rule, day, &first, &last);
            assert_true(first <= day && day <= last);
            if (first == day && day != from)
                assert_int_equal(first, prev_last + 1);
            prev_last = last;
        }
    }
}

struct start_case {
    const char *in;
    size_t len;
    int want, month, day;
};

static const struct start_case starts[] = {
    {S("01-01"), 0, 1, 1},   {S("12-28"), 0, 12, 28},
    {S("04-15"), 0, 4, 15},  {S("12-29"), -1, 0, 0},
    {S("02-30"), -1, 0, 0},  {S("13-01"), -1, 0, 0},
    {S("00-10"), -1, 0, 0},  {S("01-00"), -1, 0, 0},
    {S("1-01"), -1, 0, 0},   {S("01/01"), -1, 0, 0},
    {S("01-01 "), -1, 0, 0}, {S("2026-01-01"), -1, 0, 0},
    {S("0a-01"), -1, 0, 0},  {S(""), -1, 0, 0},
    {S("01-0\0"), -1, 0, 0},
};

static void
start_parse_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(starts); i++) {
        const struct start_case *c = &starts[i];
        dk_budget_rule_t rule = {0, 0, 12};
        char *s = exact_copy(c->in, c->len);
        int got = dk_budget_start_parse(s, c->len, &rule);

        free(s);
        if (got != c->want)
            fail_msg("case %zu (%s): %d, want %d", i, c->in, got, c->want);
        if (got == 0) {
            assert_int_equal(rule.start_month, c->month);
            assert_int_equal(rule.start_day, c->day);
        }
    }
    assert_int_equal(dk_budget_start_parse(NULL, 5, NULL), -1);
}

static void
months_valid_are_the_divisors_of_a_year(void **state)
{
    int m, n = 0;

    (void)state;
    for (m = -1; m <= 25; m++)
        n += dk_budget_months_valid(m);
    assert_int_equal(n, 6);
    assert_true(dk_budget_months_valid(12) && dk_budget_months_valid(4));
    assert_false(dk_budget_months_valid(5) || dk_budget_months_valid(24) ||
                 dk_budget_months_valid(0));
}

struct warn_case {
    long long used, amount;
    int want;
};

static const struct warn_case warns[] = {
    {0, 2500, 0},     {1999, 2500, 0},  {2000, 2500, 80}, {2374, 2500, 80},
    {2375, 2500, 95}, {2500, 2500, 95}, {2600, 2500, 95}, {7, 10, 0},
    {8, 10, 80},      {9, 10, 80},      {10, 10, 95},     {0, 1, 0},
    {1, 1, 95},       {0, 0, 95},       {3, 0, 95},       {79, 100, 0},
    {80, 100, 80},    {94, 100, 80},    {95, 100, 95},
};

static void
warn_level_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(warns); i++) {
        int got = dk_budget_warn_level(warns[i].used, warns[i].amount);

        if (got != warns[i].want)
            fail_msg("%lld of %lld: %d, want %d", warns[i].used,
                     warns[i].amount, got, warns[i].want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_period_of_a_day_table_of_cases),
        cmocka_unit_test(periods_tile_the_calendar_without_gap_or_overlap),
        cmocka_unit_test(start_parse_table_of_cases),
        cmocka_unit_test(months_valid_are_the_divisors_of_a_year),
        cmocka_unit_test(warn_level_table_of_cases),
    };

    return cmocka_run_group_tests_name("budget", tests, NULL, NULL);
}
