/*
 * The government's yearly list of national holidays and cuti bersama, as the
 * office imports it (dukcapil-scheduler import-holidays): a CSV file in UTF-8
 * with the header line "date,name", then one holiday a line:
 *
 *   date,name
 *   # an example: check it against the SKB of the ministers
 *   2027-12-25,Hari Raya Natal
 *   2027-12-24,"Cuti Bersama Hari Raya Natal"
 *
 * A line starting with '#' is a comment; an empty line is skipped. The name
 * may be quoted ("" for a quote inside), and becomes the reason citizens
 * read for the closed day.
 */
#ifndef DK_HOLIDAY_H
#define DK_HOLIDAY_H

#include <stddef.h>
#include <stdint.h>

/* a holiday's name, in code points */
#define DK_HOLIDAY_NAME_MAX 150

/* a closure's reason, in code points (PostgreSQL's calendar_closure) */
#define DK_REASON_MAX 200

/* room for a reason made from a name, NUL included */
#define DK_HOLIDAY_REASON_SIZE (sizeof("Libur Nasional: ") + 4 * 150)

typedef struct {
    int32_t day; /* wib.h's day count */
    char reason[DK_HOLIDAY_REASON_SIZE];
} dk_holiday;

/* 1 if line (without its line break; a CR at its end is ignored) is the
 * header "date,name" (any case), 0 if not. */
int dk_holiday_header(const char *line, size_t len);

/* One line, without its line break (a CR at its end is ignored). Returns 0
 * with *h filled, 1 for a line to skip (empty, blank or a comment), or -1
 * with *why set to what is wrong with it. */
int dk_holiday_parse(const char *line, size_t len, dk_holiday *h,
                     const char **why);

/* The reason citizens read for a holiday's name: "Libur Nasional: <name>",
 * or a cuti bersama's name as it is ("Cuti Bersama ..."). Writes it and a
 * NUL into out; returns its length, or -1 if it does not fit. */
int dk_holiday_reason(char *out, size_t size, const char *name, size_t len);

#endif
