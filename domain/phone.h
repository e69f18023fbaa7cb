/*
 * Indonesian mobile numbers, stored as E.164 ("+628...").
 */
#ifndef DK_PHONE_H
#define DK_PHONE_H

#include <stddef.h>

#define DK_PHONE_MAX 16 /* "+62" + 12 national digits + NUL */

/* Accepts 08..., 628... and +628..., spaces and dashes ignored. Writes the
 * E.164 form into out and returns its length, or -1 if s is not a mobile
 * number (landlines included). */
int dk_phone_normalize(const char *s, size_t len, char out[DK_PHONE_MAX]);

/* "+6281234567890" -> "+62812****7890"; all stars below 11 bytes. Truncated
 * to outlen - 1 bytes and always NUL-terminated. */
void dk_phone_mask(const char *e164, size_t len, char *out, size_t outlen);

#endif
