/*
 * The scheduler's YAML configuration: one table of known keys, every other
 * key refused with its line and column.
 */
#ifndef DK_CONFIG_H
#define DK_CONFIG_H

#include <stddef.h>

#include "budget.h"
#include "status.h"

typedef struct {
    char *conninfo;
    char *redis_address; /* "host:port" or "unix:/path" */
    /* redis.auth_file, read with the configuration (domain/redis_auth.h):
     * NULL password, no AUTH; NULL user, the default user. Never logged;
     * erased by dk_config_free. */
    char *redis_auth_file;
    char *redis_user;
    char *redis_password;
    int redis_epoch_check_seconds;
    int redis_rebuild_settle_seconds;
    char *timezone;
    int delivery_batch_at; /* minutes after midnight WIB */
    int reconcile_at;
    int budget_total; /* deliveries paid for in each period */
    /* budget_period_start ("MM-DD") and budget_period_months: the periods
     * of the budget, as dates (domain/budget.h) */
    dk_budget_rule_t budget_rule;
    int per_night_cap;
    int batch_size;
    char *outbox_dir;
    char *city;
    int manifest_retention_days; /* a lost manifest is written again */
    int max_attempts;      /* failed deliveries before pickup at an office */
    int pickup_after_days; /* a post document not batched after this long is
                            * to be picked up at an office */
    int window_days;
    int admission_grace_seconds;
    int no_show_count;
    int no_show_within_days;
    int no_show_bar_days;
} dk_config_t;

/* Reads and checks the file. On error cfg is left empty and err says
 * "FILE:LINE:COLUMN: reason" when a place in the file is at fault. */
int dk_config_load(dk_config_t *cfg, const char *path, dk_err_t *err);

/* The same, from data[0..len) (no NUL needed), with name standing for the
 * file in err. */
int dk_config_load_buffer(dk_config_t *cfg, const char *name, const char *data,
                          size_t len, dk_err_t *err);

void dk_config_free(dk_config_t *cfg);

#endif
