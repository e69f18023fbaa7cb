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

#endif
