/*
 * dk_flat_json: a table of bodies it must read or leave alone, and a
 * comparison with jansson (the module's parser, with the module's flags)
 * on the table and on many thousands of bodies mutated from it: whatever
 * dk_flat_json reads, jansson must read as the same members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <jansson.h>

#include "flat_json.h"
#include "unit.h"

#define MAX_MEMBERS 8

struct flat_case {
    const char *in;
    size_t len;
    int want; /* members, or -1 */
    const char *why;
};

static const struct flat_case cases[] = {
    {S("{\"nik\":\"1471011203900001\",\"name\":\"Siti Nurhaliza\","
       "\"phone\":\"081234567890\",\"service\":\"ktp\",\"office\":\"mpp\","
       "\"date\":\"2026-12-01\"}"),
     6, "a booking"},
    {S("{}"), 0, "empty object"},
    {S(" \t\r\n{ \"a\" : \"b\" } \n"), 1, "JSON whitespace everywhere"},
    {S("{\"a\":\"\"}"), 1, "empty value"},
    {S("{\"\":\"x\"}"), 1, "empty key"},
    {S("{\"name\":\"D'Arcy ~!@#$%^&*()_+-=[]{}|;:,.<>/?`\"}"), 1,
     "printable punctuation, braces and colons inside a string"},
    {S("{\"a\":\"b\",\"a\":\"c\"}"), -1, "a key twice"},
    {S("{\"a\":\"b\",}"), -1, "trailing comma"},
    {S("{,\"a\":\"b\"}"), -1, "leading comma"},
    {S("{\"a\" \"b\"}"), -1, "no colon"},
    {S("{\"a\":\"b\" \"c\":\"d\"}"), -1, "no comma"},
    {S("{\"a\":\"b\"}x"), -1, "text after the object"},
    {S("{\"a\":\"b\"}{}"), -1, "two objects"},
    {S("{\"a\":\"b\""), -1, "unclosed object"},
    {S("{\"a\":\"b}"), -1, "unclosed string"},
    {S(""), -1, "nothing"},
    {S("   "), -1, "only whitespace"},
    {S("[]"), -1, "an array"},
    {S("\"a\""), -1, "a string"},
    {S("{\"a\":1}"), -1, "a number"},
    {S("{\"a\":null}"), -1, "null"},
    {S("{\"a\":true}"), -1, "true"},
    {S("{\"a\":{}}"), -1, "a nested object"},
    {S("{\"a\":[\"b\"]}"), -1, "a nested array"},
    {S("{\"a\":\"b\\\"c\"}"), -1, "an escaped quote"},
    {S("{\"a\":\"\\u0000\"}"), -1, "an escaped NUL"},
    {S("{\"a\\n\":\"b\"}"), -1, "an escape in a key"},
    {S("{\"a\":\"b\0c\"}"), -1, "a raw NUL"},
    {S("{\"a\":\"b\tc\"}"), -1, "a raw tab in a string"},
    {S("{\"a\":\"b\x7f\"}"), -1, "DEL"},
    {S("{\"a\":\"Jos\xc3\xa9\"}"), -1, "UTF-8: jansson's to check"},
    {S("{\"a\":\"\xff\"}"), -1, "not UTF-8"},
    {S("\xef\xbb\xbf{}"), -1, "a byte order mark"},
    {S("{'a':'b'}"), -1, "single quotes"},
    {S("{a:\"b\"}"), -1, "bare key"},
    {S("{\"a\":\"b\"}\f"), -1, "form feed is not JSON whitespace"},
    {S("{\"1\":\"a\",\"2\":\"b\",\"3\":\"c\",\"4\":\"d\",\"5\":\"e\","
       "\"6\":\"f\",\"7\":\"g\",\"8\":\"h\"}"),
     8, "as many members as there is room for"},
    {S("{\"1\":\"a\",\"2\":\"b\",\"3\":\"c\",\"4\":\"d\",\"5\":\"e\","
       "\"6\":\"f\",\"7\":\"g\",\"8\":\"h\",\"9\":\"i\"}"),
     -1, "one member more than there is room for"},
};

/* What jansson, loading s as the module does, thinks of what dk_flat_json
 * read from it: 0 if the same members with the same values, else -1. */
static int
jansson_agrees(const char *s, size_t len, const dk_json_member *m, int n)
{
    json_error_t err;
    json_t *obj, *v;
    int i, rc = 0;

    obj = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (obj == NULL || !json_is_object(obj) || (int)json_object_size(obj) != n)
        rc = -1;
    for (i = 0; rc == 0 && i < n; i++) {
        char key[64];

        if (m[i].key_len >= sizeof(key)) {
            rc = -1;
            break;
        }
        memcpy(key, m[i].key, m[i].key_len);
        key[m[i].key_len] = '\0';
        v = json_object_get(obj, key);
        if (v == NULL || !json_is_string(v) ||
            json_string_length(v) != m[i].value_len ||
            memcmp(json_string_value(v), m[i].value, m[i].value_len) != 0)
            rc = -1;
    }
    json_decref(obj);
    return rc;
}

static void
flat_json_table_of_cases(void **state)
{
    dk_json_member m[MAX_MEMBERS];
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        char *in = exact_copy(cases[i].in, cases[i].len);
        int got = dk_flat_json(in, cases[i].len, m, MAX_MEMBERS);

        if (got != cases[i].want) {
            print_error("case %zu (%s): got %d, want %d\n", i, cases[i].why,
                        got, cases[i].want);
            failures++;
        } else if (got >= 0 && jansson_agrees(in, cases[i].len, m, got) != 0) {
            print_error("case %zu (%s): jansson reads other members\n", i,
                        cases[i].why);
            failures++;
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

static void
flat_json_members_point_into_the_body(void **state)
{
    const char body[] = "{ \"nik\" : \"1471011203900001\", \"x\":\"\" }";
    dk_json_member m[MAX_MEMBERS];

    (void)state;
    assert_int_equal(dk_flat_json(body, sizeof(body) - 1, m, MAX_MEMBERS), 2);
    assert_ptr_equal(m[0].key, body + 3);
    assert_int_equal(m[0].key_len, 3);
    assert_ptr_equal(m[0].value, body + 11);
    assert_int_equal(m[0].value_len, 16);
    assert_memory_equal(m[1].key, "x", 1);
    assert_int_equal(m[1].value_len, 0);
}

/* xorshift32: the same bodies on every run and every machine */
static uint32_t
next_random(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void
flat_json_never_disagrees_with_jansson(void **state)
{
    static const char alphabet[] = "{}\":,[] \t\n\r\\/aAz09-.nul\x01\x1f\x7f"
                                   "\xc3\xa9\xff\0";
    char buf[512];
    dk_json_member m[MAX_MEMBERS];
    uint32_t x = 20261127;
    size_t len, pos;
    int round, k, n, read = 0, refused = 0, failures = 0;

    (void)state;
    for (round = 0; round < 200000; round++) {
        const struct flat_case *c = &cases[next_random(&x) % N_CASES(cases)];
        char *in;

        memcpy(buf, c->in, c->len);
        len = c->len;
        for (k = (int)(next_random(&x) % 4); k > 0; k--) {
            char ch = alphabet[next_random(&x) % (sizeof(alphabet) - 1)];

            pos = len ? next_random(&x) % (len + 1) : 0;
            switch (next_random(&x) % 3) {
            case 0: /* insert */
                if (len + 1 < sizeof(buf)) {
                    memmove(buf + pos + 1, buf + pos, len - pos);
                    buf[pos] = ch;
                    len++;
                }
                break;
            case 1: /* delete */
                if (pos < len) {
                    memmove(buf + pos, buf + pos + 1, len - pos - 1);
                    len--;
                }
                break;
            default: /* replace */
                if (pos < len)
                    buf[pos] = ch;
            }
        }

        in = exact_copy(buf, len);
        n = dk_flat_json(in, len, m, MAX_MEMBERS);
        if (n >= 0) {
            read++;
            if (jansson_agrees(in, len, m, n) != 0) {
                if (failures++ < 5)
                    print_error("disagreement on %.*s\n", (int)len, in);
            }
        } else {
            refused++;
        }
        free(in);
    }
    print_message("flat_json: %d bodies read, %d left to jansson\n", read,
                  refused);
    assert_int_equal(failures, 0);
    /* both sides were exercised */
    assert_true(read > 10000);
    assert_true(refused > 10000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flat_json_table_of_cases),
        cmocka_unit_test(flat_json_members_point_into_the_body),
        cmocka_unit_test(flat_json_never_disagrees_with_jansson),
    };

    return cmocka_run_group_tests_name("flat_json", tests, NULL, NULL);
}
