#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "keys.h"
#include "wib.h"
#include "unit.h"

struct day_key_case {
    const char *office;
    dk_day_key part;
    const char *want; /* NULL: refused */
};

static const struct day_key_case day_cases[] = {
    {"mpp", DK_DAY_COUNTS, "dk:{mpp:2026-12-03}:day"},
    {"mpp", DK_DAY_ADMISSIONS, "dk:{mpp:2026-12-03}:adm"},
    {"mpp", DK_DAY_NIKS, "dk:{mpp:2026-12-03}:nik"},
    {"tenayan_raya", DK_DAY_PHONES, "dk:{2026-12-03}:phone"},
    {"mpp", DK_DAY_KEYS, NULL},
    {"an_office_code_of_thirty_three_c", DK_DAY_COUNTS,
     "dk:{an_office_code_of_thirty_three_c:2026-12-03}:day"},
    {"an_office_code_of_thirty_three_ch", DK_DAY_COUNTS, NULL},
};

static void
day_keys_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(day_cases); i++) {
        char out[DK_KEY_MAX];
        const struct day_key_case *c = &day_cases[i];
        int n = dk_key_day(out, sizeof(out), c->office, strlen(c->office),
                           "2026-12-03", c->part);

        if (c->want == NULL) {
            assert_int_equal(n, -1);
            continue;
        }
        assert_int_equal(n, (int)strlen(c->want));
        assert_string_equal(out, c->want);
    }
}

static void
a_key_that_does_not_fit_is_refused(void **state)
{
    char out[23];

    (void)state;
    assert_int_equal(
        dk_key_day(out, sizeof(out), "upt", 3, "2026-12-03", DK_DAY_COUNTS),
        -1);
    assert_int_equal(dk_key_bar(out, 8, "1471010101010001"), -1);
    assert_int_equal(dk_key_field(out, 4, DK_FIELD_QUOTA, "ktp", 3), -1);
}

static void
phone_bar_keys(void **state)
{
    char out[DK_KEY_MAX];

    (void)state;
    assert_int_equal(dk_key_phone_bar(out, sizeof(out), S("+6281234567890")),
                     27);
    assert_string_equal(out, "dk:bar:phone:+6281234567890");
    assert_ptr_equal(dk_key_bar_phone(out, 27), out + 13);
    /* neither a NIK's bar nor a phone's is taken for the other */
    assert_null(dk_key_bar_nik(out, 27));
    assert_null(dk_key_bar_phone(S("dk:bar:1471010101010001")));
    assert_null(dk_key_bar_phone(S("dk:bar:phone:")));
    assert_int_equal(dk_key_phone_bar(out, 20, S("+6281234567890")), -1);
}

static void
otp_keys(void **state)
{
    char out[DK_KEY_MAX];

    (void)state;
    assert_int_equal(dk_key_otp(out, sizeof(out), DK_OTP_CODE, S("0a1b")), 11);
    assert_string_equal(out, "dk:otp:0a1b");
    dk_key_otp(out, sizeof(out), DK_OTP_HOUR, S("+6281234567890"));
    assert_string_equal(out, "dk:otp:h:+6281234567890");
    dk_key_otp(out, sizeof(out), DK_OTP_DAY, S("+6281234567890"));
    assert_string_equal(out, "dk:otp:d:+6281234567890");
    dk_key_otp(out, sizeof(out), DK_OTP_BUDGET, S("2026-12-07"));
    assert_string_equal(out, "dk:otp:budget:2026-12-07");
    assert_int_equal(dk_key_otp(out, 12, DK_OTP_HOUR, S("+628123")), -1);
    assert_int_equal(dk_key_otp(out, sizeof(out), DK_OTP_KEYS, S("x")), -1);
}

static void
bar_and_field_keys(void **state)
{
    char out[DK_KEY_MAX];

    (void)state;
    assert_int_equal(dk_key_bar(out, sizeof(out), "1471010101010001"), 23);
    assert_string_equal(out, "dk:bar:1471010101010001");
    assert_ptr_equal(dk_key_bar_nik(out, 23), out + 7);
    assert_null(dk_key_bar_nik("dk:bar:147101", 13));
    assert_null(dk_key_bar_nik("dk:idem:1471010101010001", 24));

    assert_int_equal(dk_key_field(out, sizeof(out), DK_FIELD_QUOTA, "ktp", 3),
                     5);
    assert_string_equal(out, "q:ktp");
    dk_key_field(out, sizeof(out), DK_FIELD_BOOKED, "akta_lahir", 10);
    assert_string_equal(out, "n:akta_lahir");
    dk_key_field(out, sizeof(out), DK_FIELD_QUEUE, "kk", 2);
    assert_string_equal(out, "s:kk");
}

struct date_case {
    const char *key;
    const char *want; /* NULL: not a day key */
};

static const struct date_case date_cases[] = {
    {"dk:{mpp:2026-12-03}:day", "2026-12-03"},
    {"dk:{tenayan_raya:2027-01-31}:adm", "2027-01-31"},
    {"dk:{2027-01-31}:phone", "2027-01-31"},
    {"dk:{mpp}:day", NULL},
    {"dk:{:2026-12-03}:day", NULL},
    {"dk:{mpp2026-12-03}:day", NULL},
    {"dk:bar:1471010101010001", NULL},
    {"dk:{mpp:2026-12-03", NULL},
    {"dk:epoch", NULL},
    {"", NULL},
};

static void
the_date_of_a_day_key(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(date_cases); i++) {
        size_t len = strlen(date_cases[i].key);
        char *key = exact_copy(date_cases[i].key, len);
        const char *got = dk_key_day_date(key, len);

        if (date_cases[i].want == NULL) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_memory_equal(got, date_cases[i].want, DK_DATE_LEN);
        }
        free(key);
    }
}

static void
a_day_key_made_is_read_back(void **state)
{
    char out[DK_KEY_MAX];
    int n;

    (void)state;
    n = dk_key_day(out, sizeof(out), "sukajadi", 8, "2026-02-28",
                   DK_DAY_ADMISSIONS);
    assert_memory_equal(dk_key_day_date(out, (size_t)n), "2026-02-28",
                        DK_DATE_LEN);
}

static void
day_keys_expire_a_week_after_the_wib_day(void **state)
{
    int32_t day;

    (void)state;
    assert_int_equal(dk_date_parse("2026-12-03", 10, &day), 0);
    /* 2026-12-11 00:00 WIB is 2026-12-10 17:00 UTC */
    assert_int_equal(dk_key_day_expiry(day), 1796922000);
    assert_int_equal(dk_wib_today((time_t)dk_key_day_expiry(day)), day + 8);
    assert_int_equal(dk_wib_today((time_t)dk_key_day_expiry(day) - 1), day + 7);
}

/* The last days an int32 holds: the week is added in 64 bits (found by
 * tests/fuzz/fuzz_validators). */
static void
day_keys_expire_even_at_the_end_of_int32(void **state)
{
    (void)state;
    assert_true(dk_key_day_expiry(INT32_MAX) ==
                ((int64_t)INT32_MAX + 8) * 86400 - DK_WIB_OFFSET);
    assert_true(dk_key_day_expiry(INT32_MIN) ==
                ((int64_t)INT32_MIN + 8) * 86400 - DK_WIB_OFFSET);
}

struct quota_case {
    long override, configured;
    int closed;
    dk_calendar calendar;
    long want;
    int bookable;
    const char *why;
};

static const struct quota_case quota_cases[] = {
    {-1, 120, 0, DK_CALENDAR_USUAL, 120, 1,
     "no override: the configured quota"},
    {40, 120, 0, DK_CALENDAR_USUAL, 40, 1, "an override lowers it"},
    {500, 120, 0, DK_CALENDAR_USUAL, 500, 1, "an override raises it"},
    {0, 120, 0, DK_CALENDAR_USUAL, 0, 1, "an override of 0 closes the service"},
    {-1, 120, 1, DK_CALENDAR_USUAL, 0, 0, "a closed weekday has none"},
    {30, 120, 1, DK_CALENDAR_USUAL, 30, 0,
     "an override on a closed weekday counts, and does not open it"},
    {-1, 0, 0, DK_CALENDAR_USUAL, 0, 1, "a service configured at 0"},
    {-1, 120, 1, DK_CALENDAR_OPENED, 120, 1,
     "a closed weekday opened: the configured quota"},
    {25, 120, 1, DK_CALENDAR_OPENED, 25, 1,
     "a closed weekday opened: an override still wins"},
    {-1, 120, 0, DK_CALENDAR_OPENED, 120, 1,
     "an open weekday opened is as it was"},
    {-1, 120, 0, DK_CALENDAR_CLOSED, 0, 0, "a closed day has none"},
    {90, 120, 0, DK_CALENDAR_CLOSED, 0, 0, "a closure wins over an override"},
    {-1, 120, 1, DK_CALENDAR_CLOSED, 0, 0,
     "a closure wins over an opening of a closed weekday"},
};

static void
the_quota_rule(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(quota_cases); i++) {
        const struct quota_case *c = &quota_cases[i];

        if (dk_quota_effective(c->override, c->configured, c->closed,
                               c->calendar) != c->want)
            fail_msg("quota: %s", c->why);
        if (dk_day_bookable(c->closed, c->calendar) != c->bookable)
            fail_msg("bookable: %s", c->why);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(day_keys_table_of_cases),
        cmocka_unit_test(a_key_that_does_not_fit_is_refused),
        cmocka_unit_test(bar_and_field_keys),
        cmocka_unit_test(otp_keys),
        cmocka_unit_test(phone_bar_keys),
        cmocka_unit_test(the_date_of_a_day_key),
        cmocka_unit_test(a_day_key_made_is_read_back),
        cmocka_unit_test(day_keys_expire_a_week_after_the_wib_day),
        cmocka_unit_test(day_keys_expire_even_at_the_end_of_int32),
        cmocka_unit_test(the_quota_rule),
    };

    return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
