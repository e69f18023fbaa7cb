/*
 * Codes (domain/code.c). The first byte is the prefix asked for, the rest a
 * code as a citizen types it: what dk_code_normalize accepts is canonical,
 * reads back as itself, and reads back the same however a citizen may type
 * it again (any case, dashes anywhere, O for 0, I and L for 1). The first
 * eight bytes after the prefix, as random bytes, encode to a code that holds
 * their low 60 bits and decodes to them.
 */
#include <string.h>

#include "code.h"
#include "fuzz.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static char
upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The 60 bits a canonical code holds (its first symbol the lowest 5). */
static uint64_t
decode(const char code[DK_CODE_LEN + 1])
{
    uint64_t bits = 0;
    int i, shift = 0;

    for (i = 2; i < DK_CODE_LEN; i++) {
        const char *p;

        if (code[i] == '-')
            continue;
        p = strchr(alphabet, code[i]);
        CHECK(p != NULL && *p != '\0');
        bits |= (uint64_t)(p - alphabet) << shift;
        shift += 5;
    }
    CHECK(shift == 60);
    return bits;
}

static void
check_canonical(const char code[DK_CODE_LEN + 1], char prefix)
{
    int i;

    CHECK(strlen(code) == DK_CODE_LEN);
    CHECK(code[0] == upper(prefix));
    for (i = 1; i < DK_CODE_LEN; i++) {
        if (i % 5 == 1)
            CHECK(code[i] == '-');
        else
            CHECK(code[i] != '\0' && strchr(alphabet, code[i]) != NULL);
    }
}

/* The code as a citizen might type it: lower case, without dashes, with
 * the look-alikes; variant picks which. */
static size_t
retype(const char code[DK_CODE_LEN + 1], unsigned variant, char *out)
{
    size_t i, n = 0;

    for (i = 0; i < DK_CODE_LEN; i++) {
        char c = code[i];

        if (c == '-' && (variant & 1))
            continue;
        if (c == '0' && (variant & 2))
            c = 'o';
        else if (c == '1' && (variant & 4))
            c = (variant & 8) ? 'I' : 'l';
        else if (variant & 16)
            c = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        out[n++] = c;
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[DK_CODE_LEN + 1], again[DK_CODE_LEN + 1], typed[DK_CODE_LEN];
    unsigned char random[DK_CODE_RANDOM];
    uint64_t bits = 0;
    char prefix;
    unsigned v;
    size_t i, n;

    if (size == 0)
        return 0;
    prefix = (char)data[0];

    if (dk_code_normalize((const char *)data + 1, size - 1, prefix, out) == 0) {
        check_canonical(out, prefix);
        CHECK(dk_code_normalize(out, DK_CODE_LEN, prefix, again) == 0);
        CHECK(strcmp(out, again) == 0);
        for (v = 0; v < 32; v++) {
            n = retype(out, v, typed);
            CHECK(dk_code_normalize(typed, n, prefix, again) == 0);
            CHECK(strcmp(out, again) == 0);
        }
    }

    if (size < 1 + DK_CODE_RANDOM)
        return 0;
    memcpy(random, data + 1, DK_CODE_RANDOM);
    if (dk_code_encode(prefix, random, out) != 0) {
        CHECK(upper(prefix) < 'A' || upper(prefix) > 'Z');
        return 0;
    }
    check_canonical(out, prefix);
    for (i = 0; i < DK_CODE_RANDOM; i++)
        bits = bits << 8 | random[i];
    CHECK(decode(out) == (bits & ((UINT64_C(1) << 60) - 1)));
    CHECK(dk_code_normalize(out, DK_CODE_LEN, prefix, again) == 0);
    CHECK(strcmp(out, again) == 0);
    return 0;
}
