#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv.h"
#include "unit.h"

struct csv_case {
    const char *in;
    size_t len;
    int want;
    const char *why;
};

static const struct csv_case cases[] = {
    {S("=HYPERLINK(\"http://x.invalid\",\"klik\")"), 1, "a formula"},
    {S("=1+1"), 1, "arithmetic"},
    {S("+cmd|' /C calc'!A0"), 1, "DDE after a plus"},
    {S("-2+3+cmd|' /C calc'!A0"), 1, "DDE after a minus"},
    {S("@SUM(A1:A9)"), 1, "an at sign"},
    {S("\tJl. Sudirman"), 1, "a leading tab"},
    {S("\rJl. Sudirman"), 1, "a leading carriage return"},
    {S("+"), 1, "a plus alone"},
    {S("-"), 1, "a minus alone"},
    {S("+6281234567890"), 0, "a phone in E.164"},
    {S("-5"), 0, "a negative number"},
    {S("Budi Santoso"), 0, "a name"},
    {S("Jl. Sudirman No. 1 = depan masjid"), 0, "an = inside"},
    {S("Siti-Aminah"), 0, "a dash inside"},
    {S(""), 0, "empty"},
    {S("28125"), 0, "a postal code"},
};

static void
formula_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        char *in = exact_copy(cases[i].in, cases[i].len);

        if (dk_csv_formula(in, cases[i].len) != cases[i].want)
            fail_msg("%s: %s", cases[i].why, cases[i].in);
        free(in);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formula_table_of_cases),
    };

    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
