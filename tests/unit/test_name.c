#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "name.h"
#include "unit.h"

struct name_case {
    const char *in;
    size_t len;
    int want;
    const char *why;
};

static const struct name_case cases[] = {
    {S("Siti Nurhaliza"), 0, "plain ASCII"},
    {S("A"), 0, "one letter"},
    {S("Muhammad Al-Fatih bin Abdullah"), 0, "dash"},
    {S("R. A. Kartini"), 0, "dots"},
    {S("D'Arcy"), 0, "apostrophe"},
    {S("Jos\xc3\xa9 Mar\xc3\xad"
       "a"),
     0, "Latin-1 letters, 2 bytes"},
    {S("\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e"), 0, "CJK, 3 bytes"},
    {S("Ani \xf0\x9f\x98\x80"), 0, "emoji, 4 bytes"},
    {S(" Budi "), 0, "surrounding spaces: trimming is the caller's"},
    {S(""), -1, "empty"},
    {S("   "), -1, "only spaces"},
    {S("\xc2\xa0\xe3\x80\x80"), -1, "only Unicode spaces"},
    {S("Budi\tSantoso"), -1, "tab (C0 control)"},
    {S("Budi\nSantoso"), -1, "newline"},
    {S("Budi\x7f"), -1, "DEL"},
    {S("Budi\xc2\x85"), -1, "C1 control U+0085"},
    {S("Budi\0Santoso"), -1, "NUL byte inside"},
    {S("Budi\xff"), -1, "byte FF"},
    {S("Budi\x80"), -1, "lone continuation byte"},
    {S("Jos\xc3"), -1, "truncated sequence at the end"},
    {S("\xc0\xaf"), -1, "overlong '/' (2 bytes)"},
    {S("\xc1\x81"), -1, "overlong 'A' (C1 lead)"},
    {S("\xe0\x80\xaf"), -1, "overlong '/' (3 bytes)"},
    {S("\xf0\x80\x80\xaf"), -1, "overlong '/' (4 bytes)"},
    {S("\xed\xa0\x80"), -1, "surrogate U+D800"},
    {S("\xed\xbf\xbf"), -1, "surrogate U+DFFF"},
    {S("\xf4\x90\x80\x80"), -1, "U+110000"},
    {S("\xf5\x80\x80\x80"), -1, "lead byte F5"},
    {S("\xed\x9f\xbf"), 0, "U+D7FF, just below the surrogates"},
    {S("\xf4\x8f\xbf\xbf"), 0, "U+10FFFF, the last code point"},
};

static void
name_table_of_cases(void **state)
{
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        char *in = exact_copy(cases[i].in, cases[i].len);
        int got = dk_name_valid(in, cases[i].len);

        if (got != cases[i].want) {
            print_error("case %zu (%s): got %d, want %d\n", i, cases[i].why,
                        got, cases[i].want);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* n copies of unit (ulen bytes), as an exactly sized heap buffer */
static char *
repeat(const char *unit, size_t ulen, size_t n)
{
    char *p = malloc(ulen * n);
    size_t i;

    assert_non_null(p);
    for (i = 0; i < n; i++)
        memcpy(p + i * ulen, unit, ulen);
    return p;
}

static void
limit_counts_code_points_not_bytes(void **state)
{
    char *s;

    (void)state;
    s = repeat("a", 1, 100);
    assert_int_equal(dk_name_valid(s, 100), 0);
    free(s);

    s = repeat("a", 1, 101);
    assert_int_equal(dk_name_valid(s, 101), -1);
    free(s);

    /* 100 four-byte code points: 400 bytes, still a valid name */
    s = repeat("\xf0\x9f\x98\x80", 4, 100);
    assert_int_equal(dk_name_valid(s, 400), 0);
    free(s);

    s = repeat("\xc3\xa9", 2, 101);
    assert_int_equal(dk_name_valid(s, 202), -1);
    free(s);
}

static void
text_limit_is_the_callers(void **state)
{
    (void)state;
    assert_int_equal(dk_text_valid("abc", 3, 3), 0);
    assert_int_equal(dk_text_valid("abcd", 4, 3), -1);
    assert_int_equal(dk_text_valid(NULL, 0, 3), -1);
}

static void
trim_drops_ascii_spaces_and_tabs_at_both_ends(void **state)
{
    const char *s = " \t Budi Santoso\t ";
    const char *nbsp = "\xc2\xa0"
                       "Budi";
    const char *blank = "  \t ";
    const char *none = NULL;
    size_t n;

    (void)state;
    n = dk_trim(&s, strlen(s));
    assert_int_equal(n, 12);
    assert_memory_equal(s, "Budi Santoso", 12);

    n = dk_trim(&nbsp, 6);
    assert_int_equal(n, 6); /* only ASCII whitespace is trimmed */

    n = dk_trim(&blank, 4);
    assert_int_equal(n, 0);

    assert_int_equal(dk_trim(&none, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_table_of_cases),
        cmocka_unit_test(limit_counts_code_points_not_bytes),
        cmocka_unit_test(text_limit_is_the_callers),
        cmocka_unit_test(trim_drops_ascii_spaces_and_tabs_at_both_ends),
    };

    return cmocka_run_group_tests_name("name", tests, NULL, NULL);
}
