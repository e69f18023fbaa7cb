/*
 * The answer of the booking script (lua/book.lua), read apart from Redis and
 * nginx: one call decides several bookings and answers one string, a line
 * per booking joined by '\n'. A line is "<outcome>" or "<outcome> <detail>"
 * ("ok 17", "full", "bar 2026-12-14"), or "error <why>" for a booking whose
 * commands Redis refused.
 */
#ifndef DK_SCRIPT_ANSWER_H
#define DK_SCRIPT_ANSWER_H

#include <stddef.h>
#include <stdint.h>

/* bytes inside an answer: not NUL-terminated */
typedef struct {
    const char *data;
    size_t len;
} dk_span_t;

/* the longest booking line read; anything longer is not understood */
#define DK_BOOK_LINE_MAX 64

/* Splits s[0..len) at each '\n' into lines[0..max) and returns how many
 * lines s holds, which may be more than max (only max are written). An empty
 * s holds none; "ok 1\n" holds two, the second empty. */
size_t dk_script_lines(const char *s, size_t len, dk_span_t *lines, size_t max);

/* 1 if the line is "error" or "error <why>", with *why the reason (empty
 * for "error"); 0 otherwise. */
int dk_script_line_error(const char *line, size_t len, dk_span_t *why);

/* Splits a booking's line at its first space into its outcome word and its
 * detail (empty when there is no space). Returns 0, or -1 if the line is
 * empty or longer than DK_BOOK_LINE_MAX. */
int dk_book_line(const char *line, size_t len, dk_span_t *outcome,
                 dk_span_t *detail);

/* The queue number of "ok <queue>": decimal digits only (leading zeros
 * allowed) of a value 1..INT64_MAX. Returns it, or -1. */
int64_t dk_queue_number(const char *s, size_t len);

#endif
