/*
 * The shape nearly every request body has, read without a JSON library: one
 * object whose members are all strings of printable ASCII without escapes,
 * {"nik":"1471...","name":"Siti",...}.  Whatever else a body is, it is left
 * to a full JSON parser (the module's is jansson): this is a fast path for
 * the 07:00 rush, never a second opinion on what JSON is.
 */
#ifndef DK_FLAT_JSON_H
#define DK_FLAT_JSON_H

#include <stddef.h>

typedef struct {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} dk_json_member;

/* Reads s[0..len) as an object of such members, JSON's whitespace allowed
 * around every token, into m[0..max). Returns how many members it has, or
 * -1 if s is anything else: another JSON value, a string with an escape or
 * with a byte outside 0x20..0x7e, a key given twice, more than max members,
 * or no JSON at all. Keys and values point into s. */
int dk_flat_json(const char *s, size_t len, dk_json_member *m, int max);

#endif
