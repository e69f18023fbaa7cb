/*
 * Crockford base32 (https://www.crockford.com/base32.html): no I, L, O or U,
 * so that a code read aloud or copied by hand survives; the look-alikes are
 * read back as the digits they resemble.
 */
#include "code.h"

#include <errno.h>
#include <sys/types.h>
#include <sys/random.h>

#define SYMBOLS 12
#define GROUP 4

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static char
upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The canonical symbol for what a citizen typed, or 0 if it is none. */
static char
symbol(char c)
{
    c = upper(c);
    if (c == 'O')
        return '0';
    if (c == 'I' || c == 'L')
        return '1';
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z' && c != 'U'))
        return c;
    return 0;
}

/* "P-" then the symbols in groups of four. */
static void
format(char prefix, const char sym[SYMBOLS], char out[DK_CODE_LEN + 1])
{
    size_t i, o = 0;

    out[o++] = prefix;
    for (i = 0; i < SYMBOLS; i++) {
        if (i % GROUP == 0)
            out[o++] = '-';
        out[o++] = sym[i];
    }
    out[o] = '\0';
}

static int
fill_random(unsigned char *buf, size_t len)
{
    size_t got = 0;
    ssize_t n;

    while (got < len) {
        n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

int
dk_code_generate(char prefix, char out[DK_CODE_LEN + 1])
{
    unsigned char buf[DK_CODE_RANDOM];

    if (fill_random(buf, sizeof(buf)) != 0)
        return -1;
    return dk_code_encode(prefix, buf, out);
}

int
dk_code_encode(char prefix, const unsigned char random[DK_CODE_RANDOM],
               char out[DK_CODE_LEN + 1])
{
    unsigned long long bits = 0;
    char sym[SYMBOLS];
    size_t i;

    prefix = upper(prefix);
    if (prefix < 'A' || prefix > 'Z')
        return -1;

    for (i = 0; i < DK_CODE_RANDOM; i++)
        bits = bits << 8 | random[i];
    for (i = 0; i < SYMBOLS; i++) {
        sym[i] = alphabet[bits & 31];
        bits >>= 5;
    }
    format(prefix, sym, out);
    return 0;
}

int
dk_code_normalize(const char *s, size_t len, char prefix,
                  char out[DK_CODE_LEN + 1])
{
    char sym[SYMBOLS];
    size_t i, n = 0, dashes = 0;
    int seen_prefix = 0;

    if (s == NULL || len > 1 + SYMBOLS + DK_CODE_MAX_DASHES)
        return -1;
    prefix = upper(prefix);

    for (i = 0; i < len; i++) {
        if (s[i] == '-') {
            if (++dashes > DK_CODE_MAX_DASHES)
                return -1;
        } else if (!seen_prefix) {
            if (upper(s[i]) != prefix || prefix < 'A' || prefix > 'Z')
                return -1;
            seen_prefix = 1;
        } else {
            if (n == SYMBOLS || (sym[n] = symbol(s[i])) == 0)
                return -1;
            n++;
        }
    }
    if (n != SYMBOLS)
        return -1;

    format(prefix, sym, out);
    return 0;
}
