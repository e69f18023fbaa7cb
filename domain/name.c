/*
 * UTF-8 is checked by hand (Unicode 15, table 3-7) rather than through
 * iconv or the locale, so that the answer does not depend on the machine.
 */
#include "name.h"

#include <stdint.h>

/* Decodes one well-formed UTF-8 sequence at s[0..len) into *cp and returns
 * its length, or 0 if the bytes are not well-formed. */
static size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    uint32_t c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        if (s[0] == 0xe0)
            lo = 0xa0; /* overlong */
        else if (s[0] == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        if (s[0] == 0xf0)
            lo = 0x90; /* overlong */
        else if (s[0] == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
    }

    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        unsigned char b = s[i];

        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
            return 0;
        c = (c << 6) | (b & 0x3f);
    }
    *cp = c;
    return n;
}

static int
is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static int
is_space(uint32_t cp)
{
    return cp == ' ' || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200b) || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000 || cp == 0xfeff;
}

int
dk_text_valid(const char *s, size_t len, size_t max_codepoints)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, count = 0, n;
    int visible = 0;
    uint32_t cp;

    if (s == NULL || len == 0)
        return -1;

    while (i < len) {
        n = utf8_decode(p + i, len - i, &cp);
        if (n == 0 || is_control(cp) || ++count > max_codepoints)
            return -1;
        if (!is_space(cp))
            visible = 1;
        i += n;
    }
    return visible ? 0 : -1;
}

int
dk_name_valid(const char *s, size_t len)
{
    return dk_text_valid(s, len, DK_NAME_MAX_CODEPOINTS);
}

size_t
dk_trim(const char **s, size_t len)
{
    const char *p = *s;

    if (p == NULL)
        return 0;
    while (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    *s = p;
    return len;
}
