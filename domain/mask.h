/*
 * Masking of identifiers before they reach a log line.
 */
#ifndef DK_MASK_H
#define DK_MASK_H

#include <stddef.h>

/* Copies s into out keeping its first head and last tail bytes and starring
 * the rest, or starring all of it when len <= head + tail (nothing would be
 * hidden). Truncated to outlen - 1 bytes, always NUL-terminated. */
void dk_mask(const char *s, size_t len, size_t head, size_t tail, char *out,
             size_t outlen);

/* A run of this many digits is taken for a NIK, a KK number or a phone. */
#define DK_MASK_DIGITS 10

/* How much of s may be logged: all of it (len), or what comes before its
 * first run of DK_MASK_DIGITS digits or more, which is a citizen's number
 * typed where no number belongs (a path, a User-Agent, a user name). */
size_t dk_mask_loggable(const char *s, size_t len);

#endif
