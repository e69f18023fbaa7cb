/*
 * NIK and KK numbers: shape checks and masking for logs.
 */
#ifndef DK_NIK_H
#define DK_NIK_H

#include <stddef.h>

/* 0 if s is a plausible NIK, -1 otherwise. Any province (>= 11) is accepted:
 * the prefix tells where the NIK was issued, not where the citizen lives. */
int dk_nik_valid(const char *s, size_t len);

/* 0 if s is a plausible KK (family card) number, -1 otherwise. */
int dk_kk_valid(const char *s, size_t len);

/* Writes "1471********0001" (first 4 and last 4 kept) into out, truncated to
 * outlen - 1 bytes and always NUL-terminated; all stars below 9 bytes, so
 * that a short identifier is never half revealed. */
void dk_mask_id(const char *s, size_t len, char *out, size_t outlen);

#endif
