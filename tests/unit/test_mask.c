#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mask.h"
#include "unit.h"

struct loggable_case {
    const char *in;
    size_t len;
    size_t want;
    const char *why;
};

static const struct loggable_case cases[] = {
    {S("/api/v1/appointments/A-7K3M-9QX2-BHT4"), 37, "a code is logged"},
    {S("/api/v1/appointments/1471010101900001"), 21, "a NIK in a path"},
    {S("/api/v1/ops/appointments/1471010101900001/check-in"), 25,
     "a NIK mid-path: what follows goes too"},
    {S("Mozilla/5.0 (Linux; Android 14; Build/UP1A.231005.007)"), 54,
     "a version of 6 digits is logged"},
    {S("Dalvik/2.1.0 HP/081234567890"), 16, "a phone in a User-Agent"},
    {S("petugas01"), 9, "an operator's name"},
    {S("1471010101900001"), 0, "a KK as a user name"},
    {S("123456789"), 9, "nine digits"},
    {S("1234567890"), 0, "ten digits"},
    {S("x1234567890"), 1, "ten digits after one byte"},
    {S("12345-67890"), 11, "two runs of five"},
    {S("+6281234567890"), 1, "a phone in E.164"},
    {S(""), 0, "empty"},
};

static void
loggable_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        char *in = exact_copy(cases[i].in, cases[i].len);
        size_t got = dk_mask_loggable(in, cases[i].len);

        if (got != cases[i].want)
            fail_msg("%s: %zu, not %zu", cases[i].why, got, cases[i].want);
        free(in);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loggable_table_of_cases),
    };

    return cmocka_run_group_tests_name("mask", tests, NULL, NULL);
}
