/*
 * The phone_token (domain/token.c), the one string of a booking's body that
 * is checked with a secret. Any input is refused unless it is the token
 * made for the phone, and checking it never reads past its length; a token
 * with any one character changed is refused; the token made for a phone
 * and an expiry taken from the input verifies and gives that expiry back.
 */
#include <string.h>

#include "fuzz.h"
#include "token.h"

static const unsigned char secret[] = "fuzz-secret-0123456789abcdef0123456789";
#define SECRET secret, sizeof(secret) - 1
#define PHONE "+6281234567890"
#define NOW 1800000000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char token[DK_TOKEN_LEN + 1];
    int64_t expiry, got = 0;
    uint64_t bits = 0;
    size_t i;

    /* an input is a token a forger wrote: refused, unless it is one */
    if (dk_token_verify(SECRET, (const char *)data, size, PHONE, NOW, &got) ==
        DK_TOKEN_OK) {
        CHECK(size == DK_TOKEN_LEN && got > NOW);
        CHECK(dk_token_make(SECRET, PHONE, got, token) == 0);
        CHECK(memcmp(token, data, DK_TOKEN_LEN) == 0);
    }

    /* the input's first bytes, an expiry: a token made for it verifies */
    for (i = 0; i < size && i < 8; i++)
        bits = (bits << 8) | data[i];
    expiry = NOW + 1 + (int64_t)(bits % 4000000000ULL);
    CHECK(dk_token_make(SECRET, PHONE, expiry, token) == 0);
    CHECK(strlen(token) == DK_TOKEN_LEN);
    CHECK(dk_token_verify(SECRET, token, DK_TOKEN_LEN, PHONE, NOW, &got) ==
          DK_TOKEN_OK);
    CHECK(got == expiry);
    CHECK(dk_token_verify(SECRET, token, DK_TOKEN_LEN, "+6281234567891", NOW,
                          NULL) == DK_TOKEN_FORGED);

    /* one character changed, at a place the input picks */
    if (size > 8) {
        i = data[8] % DK_TOKEN_LEN;
        token[i] = token[i] == 'A' ? 'B' : 'A';
        CHECK(dk_token_verify(SECRET, token, DK_TOKEN_LEN, PHONE, NOW, NULL) !=
              DK_TOKEN_OK);
    }
    return 0;
}
