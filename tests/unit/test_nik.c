#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nik.h"
#include "unit.h"

struct id_case {
    const char *in;
    size_t len;
    int want;
    const char *why;
};

static const struct id_case nik_cases[] = {
    {S("1471010101900001"), 0, "Pekanbaru man born 1 January 1990"},
    {S("1471014101900001"), 0, "woman: day 41 is the 1st"},
    {S("1471017112990001"), 0, "woman born 31 December: day 71"},
    {S("1471013112990001"), 0, "31 December"},
    {S("1101010101000001"), 0, "lowest province, 11 Aceh"},
    {S("3174050505859999"), 0, "Jakarta NIK is fine: never require 1471"},
    {S("9471010101900001"), 0, "high province code"},
    {S("1471012902000001"), 0, "29 February"},
    {S("1471016902000001"), 0, "woman born 29 February 2000"},
    {S("1471016902040001"), 0, "woman born 29 February 2004 (or 1904)"},
    {S("1471012902960001"), 0, "29 February 1996"},
    {S("1471012802970001"), 0, "28 February of a common year"},
    {S("1471016902900001"), -1, "29 February 1990: a common year"},
    {S("1471012902010001"), -1, "29 February 2001 or 1901: common years"},
    {S("1471013002000001"), -1, "30 February"},
    {S("1471013004900001"), 0, "30 April"},
    {S("1471013101900001"), 0, "31 January"},
    {S("147101010190000"), -1, "15 digits"},
    {S("14710101019000011"), -1, "17 digits"},
    {S(""), -1, "empty"},
    {S("14710101019O0001"), -1, "a letter O"},
    {S("1471 10101900001"), -1, "a space"},
    {S("-471010101900001"), -1, "a sign"},
    {S("1071010101900001"), -1, "province 10"},
    {S("0071010101900001"), -1, "province 00"},
    {S("1400010101900001"), -1, "regency 00"},
    {S("1471000101900001"), -1, "kecamatan 00"},
    {S("1471010113900001"), -1, "month 13"},
    {S("1471010100900001"), -1, "month 00"},
    {S("1471013201900001"), -1, "day 32"},
    {S("1471010001900001"), -1, "day 00"},
    {S("1471014001900001"), -1, "day 40: woman's day 0"},
    {S("1471017201900001"), -1, "day 72: woman's day 32"},
    {S("1471013501900001"), -1, "day 35: neither man nor woman"},
    {S("1471010101900000"), -1, "serial 0000"},
    {S("1471013104900001"), -1, "31 April"},
    {S("1471017104900001"), -1, "woman born 31 April"},
    {S("1471013002900001"), -1, "30 February"},
    {S("1471013106900001"), -1, "31 June"},
    {S("14710101019\0"
       "0001"),
     -1, "a NUL byte inside"},
};

static const struct id_case kk_cases[] = {
    {S("1471010101200001"), 0, "Pekanbaru KK issued 1 January 2020"},
    {S("3174053112190123"), 0, "Jakarta KK, 31 December"},
    {S("1471013102200001"), 0, "31 February passes: only day 01-31"},
    {S("1471010101200000"), -1, "serial 0000"},
    {S("1071010101200001"), -1, "province 10"},
    {S("1400010101200001"), -1, "regency 00"},
    {S("1471000101200001"), -1, "kecamatan 00"},
    {S("1471014101200001"), -1, "day 41: KK dates have no +40"},
    {S("1471010001200001"), -1, "day 00"},
    {S("1471010113200001"), -1, "month 13"},
    {S("147101010120001"), -1, "15 digits"},
    {S("147101010120000a"), -1, "a letter"},
};

static void
walk(const struct id_case *cases, size_t n, int (*valid)(const char *, size_t))
{
    size_t i, failures = 0;

    for (i = 0; i < n; i++) {
        char *in = exact_copy(cases[i].in, cases[i].len);
        int got = valid(in, cases[i].len);

        if (got != cases[i].want) {
            print_error("case %zu \"%s\" (%s): got %d, want %d\n", i,
                        cases[i].in, cases[i].why, got, cases[i].want);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

static void
nik_table_of_cases(void **state)
{
    (void)state;
    walk(nik_cases, N_CASES(nik_cases), dk_nik_valid);
}

static void
kk_table_of_cases(void **state)
{
    (void)state;
    walk(kk_cases, N_CASES(kk_cases), dk_kk_valid);
}

static void
nik_reads_only_len_bytes(void **state)
{
    (void)state;
    /* the 17th byte is not part of the input */
    assert_int_equal(dk_nik_valid("1471010101900001X", 16), 0);
    assert_int_equal(dk_nik_valid(NULL, 0), -1);
    assert_int_equal(dk_kk_valid(NULL, 16), -1);
}

static void
mask_keeps_first_and_last_four(void **state)
{
    char out[32];

    (void)state;
    dk_mask_id("1471010101900001", 16, out, sizeof(out));
    assert_string_equal(out, "1471********0001");
    dk_mask_id("123456789", 9, out, sizeof(out));
    assert_string_equal(out, "1234*6789");
}

static void
mask_hides_short_identifiers_entirely(void **state)
{
    char out[32];

    (void)state;
    dk_mask_id("12345678", 8, out, sizeof(out));
    assert_string_equal(out, "********");
    dk_mask_id("", 0, out, sizeof(out));
    assert_string_equal(out, "");
    dk_mask_id(NULL, 5, out, sizeof(out));
    assert_string_equal(out, "");
}

static void
mask_truncates_and_terminates(void **state)
{
    char out[8];
    char *in = exact_copy("1471010101900001", 16);

    (void)state;
    memset(out, 'x', sizeof(out));
    dk_mask_id(in, 16, out, sizeof(out));
    assert_string_equal(out, "1471***");
    dk_mask_id(in, 16, out, 1);
    assert_string_equal(out, "");
    dk_mask_id(in, 16, NULL, 0); /* must not crash */
    free(in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nik_table_of_cases),
        cmocka_unit_test(kk_table_of_cases),
        cmocka_unit_test(nik_reads_only_len_bytes),
        cmocka_unit_test(mask_keeps_first_and_last_four),
        cmocka_unit_test(mask_hides_short_identifiers_entirely),
        cmocka_unit_test(mask_truncates_and_terminates),
    };

    return cmocka_run_group_tests_name("nik", tests, NULL, NULL);
}
