#include "mask.h"

void
dk_mask(const char *s, size_t len, size_t head, size_t tail, char *out,
        size_t outlen)
{
    size_t i, n;

    if (out == NULL || outlen == 0)
        return;
    if (s == NULL)
        len = 0;

    n = len < outlen - 1 ? len : outlen - 1;
    for (i = 0; i < n; i++) {
        if (len > head + tail && (i < head || i >= len - tail))
            out[i] = s[i];
        else
            out[i] = '*';
    }
    out[n] = '\0';
}

size_t
dk_mask_loggable(const char *s, size_t len)
{
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            run = 0;
        } else if (++run == DK_MASK_DIGITS) {
            return i + 1 - DK_MASK_DIGITS;
        }
    }
    return len;
}
