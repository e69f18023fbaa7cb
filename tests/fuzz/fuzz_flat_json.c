/*
 * The body reader's fast path (domain/flat_json.c), with the module's room
 * for members: on any bytes it reads, jansson (the module's parser, with the
 * module's flags) must read the same members with the same values, and
 * every member must lie inside the body.
 */
#include <string.h>

#include <jansson.h>

#include "flat_json.h"
#include "fuzz.h"

#define MAX_MEMBERS 16 /* NGX_HTTP_DUKCAPIL_BODY_FIELDS */

static int
inside(const char *p, size_t len, const char *s, size_t size)
{
    return p >= s && p + len <= s + size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    dk_json_member m[MAX_MEMBERS];
    json_error_t err;
    json_t *obj, *v;
    int n, i;

    n = dk_flat_json(s, size, m, MAX_MEMBERS);
    if (n < 0)
        return 0;
    CHECK(n <= MAX_MEMBERS);

    obj = json_loadb(s, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    CHECK(obj != NULL && json_is_object(obj));
    CHECK(json_object_size(obj) == (size_t)n);
    for (i = 0; i < n; i++) {
        char *key;

        CHECK(inside(m[i].key, m[i].key_len, s, size));
        CHECK(inside(m[i].value, m[i].value_len, s, size));
        key = malloc(m[i].key_len + 1);
        CHECK(key != NULL);
        memcpy(key, m[i].key, m[i].key_len);
        key[m[i].key_len] = '\0';
        v = json_object_get(obj, key);
        free(key);
        CHECK(v != NULL && json_is_string(v));
        CHECK(json_string_length(v) == m[i].value_len);
        CHECK(memcmp(json_string_value(v), m[i].value, m[i].value_len) == 0);
    }
    json_decref(obj);
    return 0;
}
