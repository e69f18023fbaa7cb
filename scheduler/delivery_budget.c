/*
 * The configuration says which period holds a day and what it pays for
 * (domain/budget.h); PostgreSQL holds the periods as rows, because the
 * module decides every post submission against the row of its day, in the
 * submission's own transaction (sql/006_delivery_periods.sql).
 */
#include <stdlib.h>
#include <string.h>

#include "delivery_budget.h"
#include "log.h"

void
dk_budget_periods(const dk_config_t *cfg, int32_t today, dk_budget_t *b)
{
    int32_t first, last, next_first, next_last;

    memset(b, 0, sizeof(*b));
    dk_budget_period(&cfg->budget_rule, today, &first, &last);
    dk_budget_period(&cfg->budget_rule, last + 1, &next_first, &next_last);
    dk_date_format(first, b->first);
    dk_date_format(last, b->last);
    dk_date_format(next_first, b->next_first);
    dk_date_format(next_last, b->next_last);
    b->amount = cfg->budget_total;
}

int
dk_budget_sync(dk_db_t *db, const dk_config_t *cfg, int32_t today,
               dk_err_t *err)
{
    char amount[24];
    const char *now[] = {NULL, NULL, amount}, *next[] = {NULL, NULL, amount};
    dk_budget_t b;

    dk_budget_periods(cfg, today, &b);
    snprintf(amount, sizeof(amount), "%lld", b.amount);
    now[0] = b.first;
    now[1] = b.last;
    next[0] = b.next_first;
    next[1] = b.next_last;
    if (dk_db_exec(db, "SELECT delivery_period_set($1, $2, $3)", 3, now) !=
            DK_OK ||
        dk_db_exec(db, "SELECT delivery_period_set($1, $2, $3)", 3, next) !=
            DK_OK)
        return dk_err_set(err, "%s", db->err.str);
    return DK_OK;
}

int
dk_budget_read(dk_db_t *db, const dk_config_t *cfg, int32_t today,
               dk_budget_t *b, dk_err_t *err)
{
    const char *params[2];
    PGresult *res;

    dk_budget_periods(cfg, today, b);
    params[0] = b->first;
    params[1] = b->last;
    if (dk_db_query(db, &res,
                    "SELECT used, pending FROM delivery_budget_of($1, $2)", 2,
                    params) != DK_OK)
        return dk_err_set(err, "%s", db->err.str);
    b->used = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    b->pending = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    b->left = b->amount > b->used ? b->amount - b->used : 0;
    return DK_OK;
}

int
dk_budget_warn(dk_db_t *db, const dk_budget_t *b, long long used, dk_err_t *err)
{
    static const struct {
        int level;
        const char *sql;
    } marks[] = {
        {80, "UPDATE delivery_period SET warned_80_at = now()"
             " WHERE starts = $1 AND warned_80_at IS NULL RETURNING 1"},
        {95, "UPDATE delivery_period SET warned_95_at = now()"
             " WHERE starts = $1 AND warned_95_at IS NULL RETURNING 1"},
    };
    const char *params[] = {b->first};
    int level = dk_budget_warn_level(used, b->amount);
    PGresult *res;
    size_t i;
    int first;

    for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        if (level < marks[i].level)
            break;
        if (dk_db_query(db, &res, marks[i].sql, 1, params) != DK_OK)
            return dk_err_set(err, "%s", db->err.str);
        first = PQntuples(res) == 1;
        PQclear(res);
        if (first)
            dk_log_warn("budget_warning",
                        "level=%d%% period=%s..%s used=%lld amount=%lld "
                        "left=%lld",
                        marks[i].level, b->first, b->last, used, b->amount,
                        used < b->amount ? b->amount - used : 0);
    }
    return DK_OK;
}

int
dk_budget_print(dk_db_t *db, const dk_config_t *cfg, int32_t today, FILE *out,
                dk_err_t *err)
{
    char day[DK_DATE_LEN + 1];
    const char *params[] = {day};
    long long room;
    PGresult *res;
    dk_budget_t b;

    if (dk_budget_read(db, cfg, today, &b, err) != DK_OK)
        return DK_ERR;
    dk_date_format(today, day);
    if (dk_db_query(db, &res,
                    "SELECT to_char(starts, 'YYYY-MM-DD'),"
                    " to_char(ends, 'YYYY-MM-DD'), amount,"
                    " COALESCE(to_char(warned_80_at AT TIME ZONE"
                    "   'Asia/Jakarta', 'YYYY-MM-DD HH24:MI'), 'no'),"
                    " COALESCE(to_char(warned_95_at AT TIME ZONE"
                    "   'Asia/Jakarta', 'YYYY-MM-DD HH24:MI'), 'no')"
                    " FROM delivery_period"
                    " WHERE $1::date BETWEEN starts AND ends",
                    1, params) != DK_OK)
        return dk_err_set(err, "%s", db->err.str);

    room = b.amount - b.used - b.pending;
    fprintf(out,
            "budget_period: %s..%s\n"
            "budget_amount: %lld\n"
            "budget_used: %lld\n"
            "budget_left: %lld\n"
            "budget_used_percent: %.1f\n"
            "post_not_yet_batched: %lld\n"
            "post_submissions_left: %lld\n",
            b.first, b.last, b.amount, b.used, b.left,
            b.amount > 0 ? 100.0 * (double)b.used / (double)b.amount : 100.0,
            b.pending, room > 0 ? room : 0);
    if (PQntuples(res) == 1)
        fprintf(out,
                "recorded_period: %s..%s\n"
                "recorded_amount: %s\n"
                "warned_80: %s\n"
                "warned_95: %s\n",
                PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
                PQgetvalue(res, 0, 4));
    else
        fprintf(out, "recorded_period: none (the delivery-batch writes it)\n");
    fprintf(out, "next_period: %s..%s\n", b.next_first, b.next_last);
    PQclear(res);
    return DK_OK;
}
