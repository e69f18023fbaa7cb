/*
 * The booking script's answer (domain/script_answer.c), read as the module
 * reads it: the first byte sets how many bookings the call decided (1..32,
 * NGX_HTTP_DUKCAPIL_SCRIPT_BATCH), the rest is the answer. Its lines must
 * put the answer back together, each line lies inside it, and what a line
 * is read as (an error with its reason; an outcome, a detail and a queue
 * number) must be what the line says.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "script_answer.h"

#define BATCH 32

static int
inside(dk_span_t span, const char *s, size_t len)
{
    return span.data >= s && span.data + span.len <= s + len;
}

static void
check_line(const char *line, size_t len)
{
    dk_span_t why, outcome, detail;
    char digits[DK_BOOK_LINE_MAX + 1], *end;
    long long want;
    int64_t queue;

    if (dk_script_line_error(line, len, &why)) {
        CHECK(len >= 5 && memcmp(line, "error", 5) == 0);
        CHECK(len == 5 || line[5] == ' ');
        CHECK(why.data + why.len == line + len);
        CHECK(why.len == (len > 5 ? len - 6 : 0));
    } else {
        CHECK(len < 5 || memcmp(line, "error", 5) != 0 ||
              (len > 5 && line[5] != ' '));
    }

    if (dk_book_line(line, len, &outcome, &detail) != 0) {
        CHECK(len == 0 || len > DK_BOOK_LINE_MAX);
        return;
    }
    CHECK(len > 0 && len <= DK_BOOK_LINE_MAX);
    CHECK(outcome.data == line && memchr(line, ' ', outcome.len) == NULL);
    if (outcome.len < len) {
        CHECK(line[outcome.len] == ' ');
        CHECK(detail.data == line + outcome.len + 1);
        CHECK(detail.len == len - outcome.len - 1);
    } else {
        CHECK(detail.len == 0);
    }

    queue = dk_queue_number(detail.data, detail.len);
    memcpy(digits, detail.data, detail.len);
    digits[detail.len] = '\0';
    errno = 0;
    want = strtoll(digits, &end, 10);
    if (detail.len == 0 || end != digits + detail.len || errno != 0 ||
        want <= 0 || digits[0] < '0' || digits[0] > '9')
        CHECK(queue == -1);
    else
        CHECK(queue == want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_span_t lines[BATCH];
    const char *s, *p;
    size_t n, len, count, newlines, i;

    if (size == 0)
        return 0;
    n = data[0] % BATCH + 1;
    s = (const char *)data + 1;
    len = size - 1;

    count = dk_script_lines(s, len, lines, n);
    for (i = 0, newlines = 0; i < len; i++)
        newlines += s[i] == '\n';
    CHECK(count == (len == 0 ? 0 : newlines + 1));

    for (i = 0, p = s; i < count && i < n; i++) {
        CHECK(inside(lines[i], s, len));
        CHECK(lines[i].data == p);
        CHECK(memchr(lines[i].data, '\n', lines[i].len) == NULL);
        p = lines[i].data + lines[i].len;
        if (i + 1 < count) {
            CHECK(*p == '\n');
            p++;
        } else {
            CHECK(p == s + len);
        }
    }

    /* the module reads the lines only of an answer of the call's size */
    if (count != n)
        return 0;
    for (i = 0; i < n; i++)
        check_line(lines[i].data, lines[i].len);
    return 0;
}
