#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "phone.h"
#include "unit.h"

struct phone_case {
    const char *in;
    size_t len;
    const char *want; /* E.164, or NULL for invalid */
    const char *why;
};

static const struct phone_case cases[] = {
    {S("081234567890"), "+6281234567890", "national 08 form"},
    {S("6281234567890"), "+6281234567890", "62 without plus"},
    {S("+6281234567890"), "+6281234567890", "E.164 already"},
    {S("0812-3456-7890"), "+6281234567890", "dashes ignored"},
    {S("0812 3456 7890"), "+6281234567890", "spaces ignored"},
    {S("+62 812-3456-7890"), "+6281234567890", "spaces and dashes mixed"},
    {S(" 081234567890 "), "+6281234567890", "surrounding spaces"},
    {S("0811234567"), "+62811234567", "shortest: 8 + operator + 7 digits"},
    {S("0812345678901"), "+62812345678901", "longest: 8 + operator + 10"},
    {S("085212345678"), "+6285212345678", "operator 85"},
    {S("089612345678"), "+6289612345678", "operator 89"},
    {S("083112345678"), "+6283112345678", "operator 83"},
    {S("081123456"), NULL, "one digit short"},
    {S("08123456789012"), NULL, "one digit too many"},
    {S("084123456789"), NULL, "84 is no mobile prefix"},
    {S("080123456789"), NULL, "80 is no mobile prefix"},
    {S("0761123456"), NULL, "Pekanbaru landline"},
    {S("62761123456"), NULL, "landline with country code"},
    {S("+62761123456"), NULL, "landline in E.164"},
    {S("(0812) 34567890"), NULL, "parentheses"},
    {S("0812.3456.7890"), NULL, "dots"},
    {S("0812345678ab"), NULL, "letters"},
    {S("+081234567890"), NULL, "plus before a national number"},
    {S("0062812345678"), NULL, "international 00 prefix"},
    {S("+6581234567"), NULL, "another country"},
    {S("81234567890"), NULL, "no prefix at all"},
    {S("0812+34567890"), NULL, "plus in the middle"},
    {S("++6281234567890"), NULL, "two plus signs"},
    {S(""), NULL, "empty"},
    {S("  -- "), NULL, "only separators"},
    {S("08123\0"
       "4567890"),
     NULL, "a NUL byte inside"},
};

static void
phone_table_of_cases(void **state)
{
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        char *in = exact_copy(cases[i].in, cases[i].len);
        char out[DK_PHONE_MAX];
        int got = dk_phone_normalize(in, cases[i].len, out);

        if (cases[i].want == NULL ? got != -1
                                  : got != (int)strlen(cases[i].want) ||
                                        strcmp(out, cases[i].want) != 0) {
            print_error("case %zu \"%s\" (%s): got %d \"%s\", want \"%s\"\n", i,
                        cases[i].in, cases[i].why, got, got > 0 ? out : "",
                        cases[i].want ? cases[i].want : "invalid");
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

static void
normalized_number_normalizes_to_itself(void **state)
{
    char once[DK_PHONE_MAX], twice[DK_PHONE_MAX];
    int n;

    (void)state;
    n = dk_phone_normalize("0812 3456 78901", 15, once);
    assert_int_equal(n, 15);
    assert_int_equal(dk_phone_normalize(once, (size_t)n, twice), n);
    assert_string_equal(once, twice);
}

static void
long_input_is_refused_without_overflow(void **state)
{
    char in[256], out[DK_PHONE_MAX];

    (void)state;
    memset(in, '8', sizeof(in));
    in[0] = '0';
    assert_int_equal(dk_phone_normalize(in, sizeof(in), out), -1);
    assert_int_equal(dk_phone_normalize(NULL, 0, out), -1);
}

static void
mask_keeps_first_six_and_last_four(void **state)
{
    char out[DK_PHONE_MAX];

    (void)state;
    dk_phone_mask("+6281234567890", 14, out, sizeof(out));
    assert_string_equal(out, "+62812****7890");
    dk_phone_mask("+6281123456", 11, out, sizeof(out));
    assert_string_equal(out, "+62811*3456");
    dk_phone_mask("+628112345", 10, out, sizeof(out));
    assert_string_equal(out, "**********");
    dk_phone_mask("+6281234567890", 14, out, 5);
    assert_string_equal(out, "+628");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phone_table_of_cases),
        cmocka_unit_test(normalized_number_normalizes_to_itself),
        cmocka_unit_test(long_input_is_refused_without_overflow),
        cmocka_unit_test(mask_keeps_first_six_and_last_four),
    };

    return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
