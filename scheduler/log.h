/*
 * One line per event on stderr: "ts=... level=... event=... key=value ...".
 * A NIK, KK or phone number never reaches a line unmasked (domain/mask.h,
 * nik.h, phone.h).
 */
#ifndef DK_LOG_H
#define DK_LOG_H

typedef enum {
    DK_LOG_DEBUG,
    DK_LOG_INFO,
    DK_LOG_WARN,
    DK_LOG_ERROR,
} dk_log_level_t;

/* fmt gives the rest of the line as key=value pairs; NULL for none. */
void dk_log(dk_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define dk_log_info(event, ...) dk_log(DK_LOG_INFO, event, __VA_ARGS__)
#define dk_log_warn(event, ...) dk_log(DK_LOG_WARN, event, __VA_ARGS__)
#define dk_log_error(event, ...) dk_log(DK_LOG_ERROR, event, __VA_ARGS__)

/* Quotes a value for a key=value line when it needs it (spaces, quotes,
 * newlines); returns buf. */
const char *dk_log_quote(const char *s, char *buf, size_t len);

#endif
