/*
 * Free text typed by citizens: names, and the text fields of an address.
 */
#ifndef DK_NAME_H
#define DK_NAME_H

#include <stddef.h>

#define DK_NAME_MAX_CODEPOINTS 100

/* 0 if s is a person's name as we store it: see dk_text_valid, at most
 * DK_NAME_MAX_CODEPOINTS code points. The caller trims first (dk_trim). */
int dk_name_valid(const char *s, size_t len);

/* 0 if s is well-formed UTF-8 (no overlongs, surrogates or code points above
 * U+10FFFF) of 1..max_codepoints code points, without C0/C1 control
 * characters or DEL, and not only whitespace. */
int dk_text_valid(const char *s, size_t len, size_t max_codepoints);

/* Moves *s past leading ASCII spaces and tabs and returns the length left
 * once trailing ones are dropped too. */
size_t dk_trim(const char **s, size_t len);

#endif
