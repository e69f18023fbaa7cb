/*
 * The phone_token: proof that a citizen read a code sent to a phone,
 * checked by any nginx that holds the same secret, with no store at all.
 *
 *   token = base64url, unpadded, of
 *           version (1 byte, 1) || expiry (8 bytes, unix s, big-endian)
 *           || HMAC-SHA256(secret, "dk-phone-token" || version || expiry
 *                                  || phone E.164)
 *
 * 41 bytes, DK_TOKEN_LEN characters.  The phone is not in the token: the
 * body that carries it names the phone, and the MAC binds the two.
 */
#ifndef DK_TOKEN_H
#define DK_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define DK_TOKEN_VERSION 1
#define DK_TOKEN_LEN 55 /* base64url of 41 bytes */

/* a secret shorter than this is refused: a MAC's key of 256 bits */
#define DK_TOKEN_SECRET_MIN 32
#define DK_TOKEN_SECRET_MAX 1024

typedef enum {
    DK_TOKEN_OK = 0,
    DK_TOKEN_FORGED = -1, /* malformed, another version, another phone,
                             or not made with this secret */
    DK_TOKEN_EXPIRED = -2
} dk_token_result;

/* Writes the token of phone (E.164, NUL-terminated) valid until expiry,
 * and a NUL, into out; returns 0, or -1 if the MAC could not be made. */
int dk_token_make(const unsigned char *secret, size_t secret_len,
                  const char *phone, int64_t expiry,
                  char out[DK_TOKEN_LEN + 1]);

/* Whether token (len bytes, untrusted) is one for phone made with secret
 * and still valid at now. The MACs are compared in constant time. On
 * DK_TOKEN_OK, *expiry (if not NULL) is the token's expiry. */
dk_token_result dk_token_verify(const unsigned char *secret, size_t secret_len,
                                const char *token, size_t len,
                                const char *phone, int64_t now,
                                int64_t *expiry);

/* The secret in a file's len bytes: everything but a final newline (or CR
 * LF). Returns NULL and its length in *secret_len, or why it is refused
 * (shorter than DK_TOKEN_SECRET_MIN, longer than DK_TOKEN_SECRET_MAX). */
const char *dk_token_secret(const char *text, size_t len, size_t *secret_len);

#endif
