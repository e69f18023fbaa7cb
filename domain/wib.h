/*
 * Calendar days in WIB (Asia/Jakarta, UTC+7, no daylight saving time), by
 * arithmetic alone: nothing here reads TZ or the server's zone.
 *
 * A day is the number of days since 1970-01-01 (day 0, a Thursday).
 */
#ifndef DK_WIB_H
#define DK_WIB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DK_WIB_OFFSET (7 * 3600)

#define DK_DATE_LEN 10 /* "YYYY-MM-DD" */
#define DK_RFC3339_MAX 40

/* The WIB calendar day of the instant now (unix seconds), for any time_t
 * (a day past the int32 range wraps as the conversion does). */
int32_t dk_wib_today(time_t now);

/* Strict "YYYY-MM-DD": 10 bytes, a real calendar date, years 2000..2199.
 * Returns 0 and sets *day, or -1. */
int dk_date_parse(const char *s, size_t len, int32_t *day);

/* Writes "YYYY-MM-DD" and a NUL; "0000-00-00" for a day outside years
 * 0000..9999, which no caller should ever hold. */
void dk_date_format(int32_t day, char out[DK_DATE_LEN + 1]);

/* 0 = Sunday ... 6 = Saturday. */
int dk_date_weekday(int32_t day);

/* The day of a calendar date (month 1..12, mday 1..31, not checked), and
 * back. */
int32_t dk_date_make(int year, int month, int mday);
void dk_date_split(int32_t day, int *year, int *month, int *mday);

/* Writes the instant as WIB local time, "2026-12-01T08:00:00+07:00", and
 * returns its length. Seconds precision: sub-second digits are dropped (the
 * instant is rounded down), which is all the audit trail shows. An instant
 * outside years 0000..9999 is written as 0000-00-00T00:00:00+07:00. */
size_t dk_rfc3339_wib(int64_t unix_us, char out[DK_RFC3339_MAX]);

/* Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", optional fraction of
 * 1..9 digits (dropped), then "Z" or "+HH:MM"/"-HH:MM". "t", "z" and a space
 * instead of "T" are accepted as RFC 3339 allows. Returns 0 and sets *unix_s,
 * or -1. */
int dk_rfc3339_parse(const char *s, size_t len, int64_t *unix_s);

#endif
