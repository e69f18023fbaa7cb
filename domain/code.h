/*
 * Codes handed to citizens (appointments "A-...", applications "P-..."):
 * a letter and 60 random bits in Crockford base32, grouped for reading
 * aloud: "A-7K3M-9QX2-BHT4".
 */
#ifndef DK_CODE_H
#define DK_CODE_H

#include <stddef.h>

#define DK_CODE_LEN 16
#define DK_CODE_MAX_DASHES 6

/* Draws 60 bits from getrandom(2) and writes the canonical code with the
 * given prefix letter (A-Z, either case). -1 if the prefix is not a letter or
 * the kernel gave no randomness. */
int dk_code_generate(char prefix, char out[DK_CODE_LEN + 1]);

/* The bytes a code is made of: 60 of their 64 bits are used. */
#define DK_CODE_RANDOM 8

/* The code of these random bytes (from the OS CSPRNG, read by the caller,
 * e.g. in larger blocks); -1 if prefix is not a letter. */
int dk_code_encode(char prefix, const unsigned char random[DK_CODE_RANDOM],
                   char out[DK_CODE_LEN + 1]);

/* Reads a code as a citizen types it: any case, dashes anywhere (at most
 * DK_CODE_MAX_DASHES), O for 0, I and L for 1. Writes the canonical form
 * and returns 0 if the prefix letter is prefix and 12 symbols follow; -1
 * otherwise. */
int dk_code_normalize(const char *s, size_t len, char prefix,
                      char out[DK_CODE_LEN + 1]);

#endif
