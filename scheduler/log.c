#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "status.h"
#include "wib.h"

static const char *dk_log_levels[] = {"debug", "info", "warn", "error"};

void
dk_log(dk_log_level_t level, const char *event, const char *fmt, ...)
{
    char line[2048], ts[DK_RFC3339_MAX];
    struct timeval tv;
    va_list ap;
    int n;

    gettimeofday(&tv, NULL);
    dk_rfc3339_wib((int64_t)tv.tv_sec * 1000000 + tv.tv_usec, ts);
    n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s", ts,
                 dk_log_levels[level], event);
    if (fmt != NULL && n > 0 && (size_t)n < sizeof(line) - 2) {
        line[n++] = ' ';
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
    }
    /* one write(2) per line, so that lines of two processes never mix */
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

const char *
dk_log_quote(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    const char *p;

    if (len < 3) {
        if (len > 0)
            buf[0] = '\0';
        return buf;
    }
    if (s[0] != '\0' && strpbrk(s, " \"=\n\r\t\\") == NULL) {
        snprintf(buf, len, "%s", s);
        return buf;
    }
    buf[i++] = '"';
    for (p = s; *p != '\0' && i < len - 3; p++) {
        if (*p == '"' || *p == '\\') {
            buf[i++] = '\\';
            buf[i++] = *p;
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            buf[i++] = ' ';
        } else {
            buf[i++] = *p;
        }
    }
    buf[i++] = '"';
    buf[i] = '\0';
    return buf;
}

int
dk_err_set(dk_err_t *err, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(err->str, sizeof(err->str), fmt, ap);
    va_end(ap);
    n = strlen(err->str);
    while (n > 0 && (err->str[n - 1] == '\n' || err->str[n - 1] == ' '))
        err->str[--n] = '\0';
    return DK_ERR;
}
