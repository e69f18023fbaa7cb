/*
 * The scheduler's YAML configuration (scheduler/config.c, through libyaml)
 * from any bytes, as the file dk_config_load reads. A configuration that
 * loads has every required key and every value in its range; one that does
 * not says why, naming the file; neither leaks.
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"

static int
set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void
check_config(const dk_config_t *c)
{
    CHECK(set(c->conninfo) && set(c->redis_address));
    CHECK(set(c->outbox_dir));
    CHECK(c->budget_rule.start_month >= 1 && c->budget_rule.start_month <= 12);
    CHECK(c->budget_rule.start_day >= 1 && c->budget_rule.start_day <= 28);
    CHECK(dk_budget_months_valid(c->budget_rule.months));
    CHECK(c->max_attempts >= 1 && c->max_attempts <= 10);
    CHECK(c->pickup_after_days >= 1 && c->pickup_after_days <= 3660);
    CHECK(set(c->timezone) && set(c->city));
    CHECK(strcmp(c->timezone, "Asia/Jakarta") == 0 ||
          strcmp(c->timezone, "WIB") == 0 ||
          strcmp(c->timezone, "+07:00") == 0);
    CHECK(c->redis_epoch_check_seconds >= 1 &&
          c->redis_epoch_check_seconds <= 10);
    CHECK(c->redis_rebuild_settle_seconds >= 0 &&
          c->redis_rebuild_settle_seconds <= 60);
    CHECK(c->delivery_batch_at >= 0 && c->delivery_batch_at < 24 * 60);
    CHECK(c->reconcile_at >= 0 && c->reconcile_at < 24 * 60);
    CHECK(c->budget_total >= 0 && c->budget_total <= 10000000);
    CHECK(c->per_night_cap >= 1 && c->per_night_cap <= 10000000);
    CHECK(c->batch_size >= 1 && c->batch_size <= 100000);
    CHECK(c->manifest_retention_days >= 1 &&
          c->manifest_retention_days <= 3660);
    CHECK(c->window_days >= 1 && c->window_days <= 366);
    CHECK(c->admission_grace_seconds >= 1 &&
          c->admission_grace_seconds <= 86400);
    CHECK(c->no_show_count >= 1 && c->no_show_count <= 1000);
    CHECK(c->no_show_within_days >= 1 && c->no_show_within_days <= 3660);
    CHECK(c->no_show_bar_days >= 1 && c->no_show_bar_days <= 3660);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_config_t cfg;
    dk_err_t err;

    err.str[0] = '\0';
    if (dk_config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size,
                              &err) == DK_OK) {
        check_config(&cfg);
        dk_config_free(&cfg);
    } else {
        CHECK(strncmp(err.str, "fuzz.yaml:", 10) == 0 ||
              strcmp(err.str, "out of memory") == 0);
        CHECK(cfg.conninfo == NULL && cfg.outbox_dir == NULL);
    }
    return 0;
}
