/*
 * The delivery budget in PostgreSQL: the periods of the configuration
 * written as rows of delivery_period (which the module's submissions are
 * decided against), what a period has spent, the warnings at 80% and 95%,
 * and the "status" command's view of it.
 */
#ifndef DK_DELIVERY_BUDGET_H
#define DK_DELIVERY_BUDGET_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "status.h"
#include "wib.h"

typedef struct {
    char first[DK_DATE_LEN + 1]; /* the period holding the day asked about */
    char last[DK_DATE_LEN + 1];
    char next_first[DK_DATE_LEN + 1]; /* and the one after it */
    char next_last[DK_DATE_LEN + 1];
    long long amount;  /* deliveries it pays for */
    long long used;    /* deliveries batched in its nights */
    long long pending; /* post applications accepted, not yet batched */
    long long left;    /* amount - used, at least 0 */
} dk_budget_t;

/* The period of the configuration holding today and the one after it. */
void dk_budget_periods(const dk_config_t *cfg, int32_t today, dk_budget_t *b);

/* Writes both periods to delivery_period, each in a statement of its own
 * (never inside a claim: a submission waits for no batch). */
int dk_budget_sync(dk_db_t *db, const dk_config_t *cfg, int32_t today,
                   dk_err_t *err);

/* The budget of the period holding today. */
int dk_budget_read(dk_db_t *db, const dk_config_t *cfg, int32_t today,
                   dk_budget_t *b, dk_err_t *err);

/* Logs event=budget_warning when used reaches 80% and 95% of the period's
 * amount, each once per period and amount (delivery_period.warned_*_at). */
int dk_budget_warn(dk_db_t *db, const dk_budget_t *b, long long used,
                   dk_err_t *err);

/* "status": the budget of today's period as key: value lines. */
int dk_budget_print(dk_db_t *db, const dk_config_t *cfg, int32_t today,
                    FILE *out, dk_err_t *err);

#endif
