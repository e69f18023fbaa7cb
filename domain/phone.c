/*
 * Indonesian mobile numbers: after the country code 62 comes "8", an operator
 * digit other than 0 and 4 (80x and 84x are no mobile prefixes), then 7..10
 * more digits.
 */
#include "phone.h"

#include <string.h>

#include "mask.h"

#define NATIONAL_MIN 9
#define NATIONAL_MAX 12

int
dk_phone_normalize(const char *s, size_t len, char out[DK_PHONE_MAX])
{
    char digits[NATIONAL_MAX + 3]; /* "62" or "0" + the national part */
    const char *national;
    size_t i, n = 0, nlen;
    int plus = 0;

    if (s == NULL)
        return -1;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == ' ' || c == '-')
            continue;
        if (c == '+' && n == 0 && !plus) {
            plus = 1;
            continue;
        }
        if (c < '0' || c > '9' || n == sizeof(digits))
            return -1;
        digits[n++] = c;
    }

    if (!plus && n >= 1 && digits[0] == '0') {
        national = digits + 1;
        nlen = n - 1;
    } else if (n >= 2 && digits[0] == '6' && digits[1] == '2') {
        national = digits + 2;
        nlen = n - 2;
    } else {
        return -1;
    }

    if (nlen < NATIONAL_MIN || nlen > NATIONAL_MAX)
        return -1;
    if (national[0] != '8' || national[1] == '0' || national[1] == '4')
        return -1;

    out[0] = '+';
    out[1] = '6';
    out[2] = '2';
    memcpy(out + 3, national, nlen);
    out[3 + nlen] = '\0';
    return (int)(3 + nlen);
}

void
dk_phone_mask(const char *e164, size_t len, char *out, size_t outlen)
{
    dk_mask(e164, len, 6, 4, out, outlen);
}
