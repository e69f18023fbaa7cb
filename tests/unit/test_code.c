#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "code.h"
#include "unit.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct code_case {
    const char *in;
    size_t len;
    char prefix;
    const char *want; /* canonical form, or NULL for invalid */
    const char *why;
};

static const struct code_case cases[] = {
    {S("A-7K3M-9QX2-BHT4"), 'A', "A-7K3M-9QX2-BHT4", "canonical"},
    {S("a-7k3m-9qx2-bht4"), 'A', "A-7K3M-9QX2-BHT4", "lower case"},
    {S("A7K3M9QX2BHT4"), 'A', "A-7K3M-9QX2-BHT4", "no dashes"},
    {S("a7k3m9qx2bht4"), 'a', "A-7K3M-9QX2-BHT4", "lower-case prefix argument"},
    {S("A-7K3M9QX2-BHT4"), 'A', "A-7K3M-9QX2-BHT4", "one dash missing"},
    {S("A--7K-3M9-QX2B-HT4-"), 'A', "A-7K3M-9QX2-BHT4", "dashes anywhere"},
    {S("-A7K3M9QX2BHT4"), 'A', "A-7K3M-9QX2-BHT4", "leading dash"},
    {S("P-OOOO-IIII-LLLL"), 'P', "P-0000-1111-1111", "O, I and L look-alikes"},
    {S("p-oooo-iiii-llll"), 'P', "P-0000-1111-1111", "look-alikes, lower"},
    {S("A-7K3M-9QX2-BHTU"), 'A', NULL, "U is not Crockford"},
    {S("P-7K3M-9QX2-BHT4"), 'A', NULL, "wrong prefix"},
    {S("7K3M-9QX2-BHT4"), 'A', NULL, "no prefix"},
    {S("A-7K3M-9QX2-BHT"), 'A', NULL, "11 symbols"},
    {S("A-7K3M-9QX2-BHT45"), 'A', NULL, "13 symbols"},
    {S("A-7K3M-9QX2-BHT4-------"), 'A', NULL, "too many dashes"},
    {S("A 7K3M 9QX2 BHT4"), 'A', NULL, "spaces"},
    {S("A-7K3M-9QX2-BHT*"), 'A', NULL, "punctuation"},
    {S("A-7K3M-9QX2-BH\0"
       "4"),
     'A', NULL, "NUL byte inside"},
    {S("A-7K3M-9QX2-BH\xc3\x9c"), 'A', NULL, "non-ASCII"},
    {S(""), 'A', NULL, "empty"},
    {S("A"), 'A', NULL, "prefix only"},
    {S("1-7K3M-9QX2-BHT4"), '1', NULL, "a digit is no prefix"},
};

static void
normalize_table_of_cases(void **state)
{
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        char *in = exact_copy(cases[i].in, cases[i].len);
        char out[DK_CODE_LEN + 1] = "";
        int got = dk_code_normalize(in, cases[i].len, cases[i].prefix, out);

        if (cases[i].want == NULL ? got != -1
                                  : got != 0 || strcmp(out, cases[i].want)) {
            print_error("case %zu (%s): got %d \"%s\"\n", i, cases[i].why, got,
                        out);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

static void
generated_codes_are_canonical(void **state)
{
    char code[DK_CODE_LEN + 1], again[DK_CODE_LEN + 1];
    size_t i, j;

    (void)state;
    for (i = 0; i < 1000; i++) {
        assert_int_equal(dk_code_generate('A', code), 0);
        assert_int_equal(strlen(code), DK_CODE_LEN);
        assert_int_equal(code[0], 'A');
        for (j = 1; j < DK_CODE_LEN; j++) {
            if (j % 5 == 1)
                assert_int_equal(code[j], '-');
            else
                assert_non_null(strchr(crockford, code[j]));
        }
        assert_int_equal(dk_code_normalize(code, DK_CODE_LEN, 'A', again), 0);
        assert_string_equal(code, again);
    }
}

/* 60 bits drawn 2000 times: a repeat, or a symbol position stuck on one
 * value, means the bits are not being used. */
static void
generated_codes_differ_and_use_every_position(void **state)
{
    static char codes[2000][DK_CODE_LEN + 1];
    unsigned seen[DK_CODE_LEN] = {0};
    size_t i, j;

    (void)state;
    for (i = 0; i < 2000; i++) {
        assert_int_equal(dk_code_generate('p', codes[i]), 0);
        assert_int_equal(codes[i][0], 'P');
        for (j = 0; j < i; j++)
            assert_string_not_equal(codes[i], codes[j]);
        for (j = 2; j < DK_CODE_LEN; j++) {
            if (j % 5 != 1)
                seen[j] |= 1u << (strchr(crockford, codes[i][j]) - crockford);
        }
    }
    for (j = 2; j < DK_CODE_LEN; j++) {
        if (j % 5 != 1)
            assert_int_equal(seen[j], 0xffffffffu);
    }
}

static void
generate_refuses_a_prefix_that_is_not_a_letter(void **state)
{
    char code[DK_CODE_LEN + 1];

    (void)state;
    assert_int_equal(dk_code_generate('1', code), -1);
    assert_int_equal(dk_code_generate('-', code), -1);
    assert_int_equal(dk_code_generate('\0', code), -1);
}

static void
encode_uses_60_bits_of_the_given_bytes(void **state)
{
    static const unsigned char zeros[DK_CODE_RANDOM] = {0};
    static const unsigned char ones[DK_CODE_RANDOM] = {0xff, 0xff, 0xff, 0xff,
                                                       0xff, 0xff, 0xff, 0xff};
    /* the lowest 5 bits come first: 1 then 0 ... */
    static const unsigned char one[DK_CODE_RANDOM] = {0, 0, 0, 0, 0, 0, 0, 1};
    char out[DK_CODE_LEN + 1];

    (void)state;
    assert_int_equal(dk_code_encode('a', zeros, out), 0);
    assert_string_equal(out, "A-0000-0000-0000");
    assert_int_equal(dk_code_encode('P', ones, out), 0);
    assert_string_equal(out, "P-ZZZZ-ZZZZ-ZZZZ");
    assert_int_equal(dk_code_encode('A', one, out), 0);
    assert_string_equal(out, "A-1000-0000-0000");
    assert_int_equal(dk_code_encode('1', zeros, out), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_table_of_cases),
        cmocka_unit_test(generated_codes_are_canonical),
        cmocka_unit_test(generated_codes_differ_and_use_every_position),
        cmocka_unit_test(generate_refuses_a_prefix_that_is_not_a_letter),
        cmocka_unit_test(encode_uses_60_bits_of_the_given_bytes),
    };

    return cmocka_run_group_tests_name("code", tests, NULL, NULL);
}
