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
