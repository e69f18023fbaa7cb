/*
 * A line too many or too few would hand one booking another's outcome, so the
 * caller compares the count of lines with the count of bookings before it
 * reads any of them.
 */
#include "script_answer.h"

#include <string.h>

size_t
dk_script_lines(const char *s, size_t len, dk_span_t *lines, size_t max)
{
    const char *p = s, *end = s + len, *nl;
    size_t n = 0;

    if (len == 0)
        return 0;
    for (;;) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (n < max) {
            lines[n].data = p;
            lines[n].len = (size_t)((nl ? nl : end) - p);
        }
        n++;
        if (nl == NULL)
            return n;
        p = nl + 1;
    }
}

int
dk_script_line_error(const char *line, size_t len, dk_span_t *why)
{
    if (len < 5 || memcmp(line, "error", 5) != 0 || (len > 5 && line[5] != ' '))
        return 0;
    why->data = line + (len > 5 ? 6 : 5);
    why->len = len > 5 ? len - 6 : 0;
    return 1;
}

int
dk_book_line(const char *line, size_t len, dk_span_t *outcome,
             dk_span_t *detail)
{
    const char *sp;

    if (len == 0 || len > DK_BOOK_LINE_MAX)
        return -1;
    sp = memchr(line, ' ', len);
    outcome->data = line;
    outcome->len = sp ? (size_t)(sp - line) : len;
    detail->data = sp ? sp + 1 : line + len;
    detail->len = len - outcome->len - (sp ? 1 : 0);
    return 0;
}

int64_t
dk_queue_number(const char *s, size_t len)
{
    int64_t v = 0;
    size_t i;

    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - (s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v > 0 ? v : -1;
}
