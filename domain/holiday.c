#include <string.h>
#include <strings.h>

#include "holiday.h"
#include "name.h"
#include "wib.h"

#define DK_HOLIDAY_LINE_MAX 4096

#define DK_LIBUR "Libur Nasional: "
#define DK_CUTI "Cuti Bersama"

/* One field from *p (up to end): quoted or not. Unquotes into out (size
 * bytes) and moves *p past the field and its comma, if any (*comma then
 * set). Returns its length, or -1 with *why set. */
static int
dk_holiday_field(const char **p, const char *end, char *out, size_t size,
                 int *comma, const char **why)
{
    const char *s = *p;
    size_t n = 0;

    if (s < end && *s == '"') {
        for (s++;; s++) {
            if (s == end) {
                *why = "a quote is left open";
                return -1;
            }
            if (*s == '"') {
                if (s + 1 < end && s[1] == '"') {
                    s++;
                } else {
                    s++;
                    break;
                }
            }
            if (n + 1 >= size) {
                *why = "a field is too long";
                return -1;
            }
            out[n++] = *s;
        }
        if (s < end && *s != ',') {
            *why = "text after a closing quote";
            return -1;
        }
    } else {
        for (; s < end && *s != ','; s++) {
            if (*s == '"') {
                *why = "a quote inside an unquoted field";
                return -1;
            }
            if (n + 1 >= size) {
                *why = "a field is too long";
                return -1;
            }
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    *comma = s < end;
    *p = s < end ? s + 1 : s;
    return (int)n;
}

int
dk_holiday_header(const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    return len == 9 && strncasecmp(line, "date,name", 9) == 0;
}

int
dk_holiday_reason(char *out, size_t size, const char *name, size_t len)
{
    size_t head = 0;

    if (len < sizeof(DK_CUTI) - 1 ||
        strncasecmp(name, DK_CUTI, sizeof(DK_CUTI) - 1) != 0)
        head = sizeof(DK_LIBUR) - 1;
    if (head + len >= size)
        return -1;
    memcpy(out, DK_LIBUR, head);
    memcpy(out + head, name, len);
    out[head + len] = '\0';
    return (int)(head + len);
}

int
dk_holiday_parse(const char *line, size_t len, dk_holiday *h, const char **why)
{
    char date[32], name[DK_HOLIDAY_LINE_MAX];
    const char *p, *end, *trimmed;
    int n, dlen, comma;
    size_t i;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
        ;
    if (i == len || line[i] == '#')
        return 1;
    if (memchr(line, '\0', len) != NULL) {
        *why = "a NUL byte";
        return -1;
    }

    p = line;
    end = line + len;
    dlen = dk_holiday_field(&p, end, date, sizeof(date), &comma, why);
    if (dlen < 0)
        return -1;
    if (!comma) {
        *why = "two columns are needed: date,name";
        return -1;
    }
    n = dk_holiday_field(&p, end, name, sizeof(name), &comma, why);
    if (n < 0)
        return -1;
    if (comma) {
        *why = "more than two columns: date,name";
        return -1;
    }
    if (dk_date_parse(date, (size_t)dlen, &h->day) != 0) {
        *why = "date is not a date YYYY-MM-DD";
        return -1;
    }

    trimmed = name;
    n = (int)dk_trim(&trimmed, (size_t)n);
    if (dk_text_valid(trimmed, (size_t)n, DK_HOLIDAY_NAME_MAX) != 0) {
        *why = "name must be text of 1 to 150 characters on one line";
        return -1;
    }
    if (dk_holiday_reason(h->reason, sizeof(h->reason), trimmed, (size_t)n) <
        0) {
        *why = "name is too long";
        return -1;
    }
    return 0;
}
