/*
 * On everything it accepts, a JSON parser finds the same members with the
 * same values: tests/unit/test_flat_json.c checks that against jansson.
 */
#include "flat_json.h"

#include <string.h>

static const char *
skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A string token at p of printable ASCII without escapes: its content in
 * *s, *n, and the position after its closing quote; NULL if p holds none. */
static const char *
plain_string(const char *p, const char *end, const char **s, size_t *n)
{
    const char *start;

    if (p == end || *p != '"')
        return NULL;
    start = ++p;
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c > 0x7e || c == '\\')
            return NULL;
        p++;
    }
    if (p == end)
        return NULL;
    *s = start;
    *n = (size_t)(p - start);
    return p + 1;
}

int
dk_flat_json(const char *s, size_t len, dk_json_member *m, int max)
{
    const char *p, *end = s + len;
    int n = 0, i;

    p = skip_space(s, end);
    if (p == end || *p++ != '{')
        return -1;
    p = skip_space(p, end);

    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (n == max)
                return -1;
            p = plain_string(p, end, &m[n].key, &m[n].key_len);
            if (p == NULL)
                return -1;
            p = skip_space(p, end);
            if (p == end || *p++ != ':')
                return -1;
            p = skip_space(p, end);
            p = plain_string(p, end, &m[n].value, &m[n].value_len);
            if (p == NULL)
                return -1;

            for (i = 0; i < n; i++) {
                if (m[i].key_len == m[n].key_len &&
                    memcmp(m[i].key, m[n].key, m[n].key_len) == 0)
                    return -1;
            }
            n++;

            p = skip_space(p, end);
            if (p == end)
                return -1;
            if (*p == '}') {
                p++;
                break;
            }
            if (*p++ != ',')
                return -1;
            p = skip_space(p, end);
        }
    }

    return skip_space(p, end) == end ? n : -1;
}
