/*
 * The phone_token (token.h): an HMAC-SHA256 over the phone and the
 * token's expiry, in base64url.
 */
#include "token.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define RAW_LEN (1 + 8 + 32)
#define CONTEXT "dk-phone-token"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
mac(const unsigned char *secret, size_t secret_len, const unsigned char *head,
    const char *phone, unsigned char out[32])
{
    unsigned char msg[sizeof(CONTEXT) - 1 + 9 + 32];
    size_t phone_len = strlen(phone), n = sizeof(CONTEXT) - 1;
    unsigned int out_len = 0;

    if (phone_len > 32)
        return -1;
    memcpy(msg, CONTEXT, n);
    memcpy(msg + n, head, 9);
    memcpy(msg + n + 9, phone, phone_len);

    if (HMAC(EVP_sha256(), secret, (int)secret_len, msg, n + 9 + phone_len, out,
             &out_len) == NULL ||
        out_len != 32)
        return -1;
    return 0;
}

static void
encode(const unsigned char *in, size_t len, char *out)
{
    size_t i, o = 0;
    unsigned long v;

    for (i = 0; i + 3 <= len; i += 3) {
        v = ((unsigned long)in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }
    if (len - i == 2) {
        v = ((unsigned long)in[i] << 16) | (in[i + 1] << 8);
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
    } else if (len - i == 1) {
        v = (unsigned long)in[i] << 16;
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
    }
    out[o] = '\0';
}

static int
sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* exactly DK_TOKEN_LEN characters into RAW_LEN bytes; the unused low bits
 * of the last character must be 0, so that one token has one spelling */
static int
decode(const char *in, unsigned char out[RAW_LEN])
{
    size_t i, o = 0;
    unsigned long v = 0;
    int bits = 0, s;

    for (i = 0; i < DK_TOKEN_LEN; i++) {
        s = sextet(in[i]);
        if (s < 0)
            return -1;
        v = (v << 6) | (unsigned long)s;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(v >> bits);
            v &= (1UL << bits) - 1;
        }
    }
    return (o == RAW_LEN && v == 0) ? 0 : -1;
}

int
dk_token_make(const unsigned char *secret, size_t secret_len, const char *phone,
              int64_t expiry, char out[DK_TOKEN_LEN + 1])
{
    unsigned char raw[RAW_LEN];
    uint64_t e = (uint64_t)expiry;
    int i;

    raw[0] = DK_TOKEN_VERSION;
    for (i = 0; i < 8; i++)
        raw[1 + i] = (unsigned char)(e >> (56 - 8 * i));

    if (mac(secret, secret_len, raw, phone, raw + 9) != 0)
        return -1;
    encode(raw, RAW_LEN, out);
    return 0;
}

dk_token_result
dk_token_verify(const unsigned char *secret, size_t secret_len,
                const char *token, size_t len, const char *phone, int64_t now,
                int64_t *expiry)
{
    unsigned char raw[RAW_LEN], want[32];
    uint64_t e = 0;
    int i;

    if (token == NULL || len != DK_TOKEN_LEN || decode(token, raw) != 0 ||
        raw[0] != DK_TOKEN_VERSION)
        return DK_TOKEN_FORGED;

    if (mac(secret, secret_len, raw, phone, want) != 0 ||
        CRYPTO_memcmp(want, raw + 9, 32) != 0)
        return DK_TOKEN_FORGED;

    for (i = 0; i < 8; i++)
        e = (e << 8) | raw[1 + i];

    /* only a genuine token's expiry is read: its MAC vouches for it */
    if ((int64_t)e <= now)
        return DK_TOKEN_EXPIRED;
    if (expiry)
        *expiry = (int64_t)e;
    return DK_TOKEN_OK;
}

const char *
dk_token_secret(const char *text, size_t len, size_t *secret_len)
{
    if (len > 0 && text[len - 1] == '\n') {
        len--;
        if (len > 0 && text[len - 1] == '\r')
            len--;
    }
    if (len > DK_TOKEN_SECRET_MAX)
        return "is longer than 1024 bytes";
    if (len < DK_TOKEN_SECRET_MIN)
        return "is shorter than 32 bytes";
    *secret_len = len;
    return NULL;
}
