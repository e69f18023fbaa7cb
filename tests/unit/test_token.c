#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "token.h"
#include "unit.h"

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
#define SECRET secret, sizeof(secret) - 1
#define NOW 1800000000

static void
made_token_verifies_until_its_expiry(void **state)
{
    char t[DK_TOKEN_LEN + 1];
    int64_t e = 0;

    (void)state;
    assert_int_equal(dk_token_make(SECRET, "+6281234567890", NOW + 60, t), 0);
    assert_int_equal(strlen(t), DK_TOKEN_LEN);
    assert_int_equal(
        dk_token_verify(SECRET, t, DK_TOKEN_LEN, "+6281234567890", NOW, &e),
        DK_TOKEN_OK);
    assert_int_equal(e, NOW + 60);
    assert_int_equal(dk_token_verify(SECRET, t, DK_TOKEN_LEN, "+6281234567890",
                                     NOW + 60, NULL),
                     DK_TOKEN_EXPIRED);
}

static void
token_is_url_safe(void **state)
{
    char t[DK_TOKEN_LEN + 1];
    size_t i;

    (void)state;
    assert_int_equal(dk_token_make(SECRET, "+6281234567890", NOW, t), 0);
    for (i = 0; i < DK_TOKEN_LEN; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
                               "uvwxyz0123456789-_",
                               t[i]));
}

static void
token_of_another_phone_or_secret_is_forged(void **state)
{
    char t[DK_TOKEN_LEN + 1];
    static const unsigned char other[] = "0123456789abcdef0123456789abcdeX";

    (void)state;
    assert_int_equal(dk_token_make(SECRET, "+6281234567890", NOW + 60, t), 0);
    assert_int_equal(
        dk_token_verify(SECRET, t, DK_TOKEN_LEN, "+6281234567891", NOW, NULL),
        DK_TOKEN_FORGED);
    assert_int_equal(dk_token_verify(other, sizeof(other) - 1, t, DK_TOKEN_LEN,
                                     "+6281234567890", NOW, NULL),
                     DK_TOKEN_FORGED);
}

static void
altered_or_malformed_token_is_forged(void **state)
{
    char t[DK_TOKEN_LEN + 1], *copy;
    size_t i;

    (void)state;
    assert_int_equal(dk_token_make(SECRET, "+6281234567890", NOW + 60, t), 0);

    /* every character changed, one at a time */
    for (i = 0; i < DK_TOKEN_LEN; i++) {
        char saved = t[i];

        t[i] = (saved == 'A') ? 'B' : 'A';
        assert_int_equal(dk_token_verify(SECRET, t, DK_TOKEN_LEN,
                                         "+6281234567890", NOW, NULL),
                         DK_TOKEN_FORGED);
        t[i] = saved;
    }

    assert_int_equal(dk_token_verify(SECRET, t, DK_TOKEN_LEN - 1,
                                     "+6281234567890", NOW, NULL),
                     DK_TOKEN_FORGED);
    assert_int_equal(
        dk_token_verify(SECRET, "", 0, "+6281234567890", NOW, NULL),
        DK_TOKEN_FORGED);
    assert_int_equal(
        dk_token_verify(SECRET, NULL, 0, "+6281234567890", NOW, NULL),
        DK_TOKEN_FORGED);

    copy = exact_copy(t, DK_TOKEN_LEN);
    copy[10] = '=';
    assert_int_equal(dk_token_verify(SECRET, copy, DK_TOKEN_LEN,
                                     "+6281234567890", NOW, NULL),
                     DK_TOKEN_FORGED);
    free(copy);
}

static void
secret_file_rules(void **state)
{
    size_t n = 0;

    (void)state;
    assert_null(dk_token_secret(S("0123456789abcdef0123456789abcdef\n"), &n));
    assert_int_equal(n, 32);
    assert_null(dk_token_secret(S("0123456789abcdef0123456789abcdef\r\n"), &n));
    assert_int_equal(n, 32);
    assert_non_null(
        dk_token_secret(S("0123456789abcdef0123456789abcde\n"), &n));
    assert_non_null(dk_token_secret(S(""), &n));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(made_token_verifies_until_its_expiry),
        cmocka_unit_test(token_is_url_safe),
        cmocka_unit_test(token_of_another_phone_or_secret_is_forged),
        cmocka_unit_test(altered_or_malformed_token_is_forged),
        cmocka_unit_test(secret_file_rules),
    };

    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
