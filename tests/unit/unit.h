/*
 * Helpers shared by the unit tests. Include after cmocka.h's prerequisites.
 */
#ifndef DK_UNIT_H
#define DK_UNIT_H

#include <stdlib.h>
#include <string.h>

/* A string literal as (pointer, length), embedded NUL bytes included. */
#define S(lit) lit, sizeof(lit) - 1

#define N_CASES(table) (sizeof(table) / sizeof((table)[0]))

/* A heap copy of exactly len bytes with no NUL after it, so that
 * AddressSanitizer and valgrind catch any read past len. */
static inline char *
exact_copy(const char *s, size_t len)
{
    char *p = malloc(len > 0 ? len : 1);

    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

#endif
