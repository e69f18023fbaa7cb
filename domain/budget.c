/*
 * Budget periods by month arithmetic: a month is counted as year * 12 +
 * (month - 1), and a period starts on the months whose distance from
 * start_month is a multiple of its length.
 */
#include "budget.h"

#include "wib.h"

static int64_t
floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;

    return r < 0 ? r + b : r;
}

int
dk_budget_start_parse(const char *s, size_t len, dk_budget_rule_t *rule)
{
    int m, d;

    if (s == NULL || len != 5 || s[2] != '-')
        return -1;
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[3] < '0' ||
        s[3] > '9' || s[4] < '0' || s[4] > '9')
        return -1;
    m = (s[0] - '0') * 10 + (s[1] - '0');
    d = (s[3] - '0') * 10 + (s[4] - '0');
    if (m < 1 || m > 12 || d < 1 || d > 28)
        return -1;
    rule->start_month = m;
    rule->start_day = d;
    return 0;
}

int
dk_budget_months_valid(int months)
{
    return months >= 1 && months <= 12 && 12 % months == 0;
}

/* The first day of the month counted as `month` (year * 12 + month - 1),
 * on the rule's start day. */
static int32_t
dk_budget_month_day(const dk_budget_rule_t *rule, int64_t month)
{
    return dk_date_make((int)(month / 12), (int)(month % 12) + 1,
                        rule->start_day);
}

void
dk_budget_period(const dk_budget_rule_t *rule, int32_t day, int32_t *first,
                 int32_t *last)
{
    int y, m, d;
    int64_t month;

    dk_date_split(day, &y, &m, &d);
    month = (int64_t)y * 12 + (m - 1);
    /* before the start day, the day still belongs to last month's period */
    if (d < rule->start_day)
        month--;
    month -= floor_mod(month - (rule->start_month - 1), rule->months);
    *first = dk_budget_month_day(rule, month);
    *last = dk_budget_month_day(rule, month + rule->months) - 1;
}

int
dk_budget_warn_level(long long used, long long amount)
{
    if (amount <= 0 || used * 100 >= amount * 95)
        return 95;
    if (used * 100 >= amount * 80)
        return 80;
    return 0;
}
