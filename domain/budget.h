/*
 * The delivery budget's periods (DAK is yearly) and the warnings as it is
 * spent: arithmetic on WIB days, shared by the scheduler and its tests.
 *
 * A period is `months` long and starts on day `start_day` of a month; the
 * periods of a year start every `months` months from `start_month`, so the
 * next period begins the day after one ends, by itself, with no label to
 * change at the new year.
 */
#ifndef DK_BUDGET_H
#define DK_BUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int start_month; /* 1..12 */
    int start_day;   /* 1..28: a day every month has */
    int months;      /* 1, 2, 3, 4, 6 or 12 */
} dk_budget_rule_t;

/* Strict "MM-DD", month 1..12 and day 1..28. Returns 0 and sets the rule's
 * start_month and start_day, or -1. */
int dk_budget_start_parse(const char *s, size_t len, dk_budget_rule_t *rule);

/* 1 if months divides a year (1, 2, 3, 4, 6, 12), else 0. */
int dk_budget_months_valid(int months);

/* The period holding day: its first and last day (both inclusive). */
void dk_budget_period(const dk_budget_rule_t *rule, int32_t day, int32_t *first,
                      int32_t *last);

/* The highest warning threshold that used of amount has reached, in
 * percent: 95, 80 or 0. A budget of 0 (or less) is spent: 95. */
int dk_budget_warn_level(long long used, long long amount);

#endif
