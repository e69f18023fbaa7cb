/*
 * The scheduler's YAML configuration: one table of known keys, every other
 * key refused with its line and column.
 */
#ifndef DK_CONFIG_H
#define DK_CONFIG_H

#include <stddef.h>

#include "budget.h"
#include "notify_text.h"
#include "status.h"

/* notification.channel: how the outbox's messages leave */
typedef enum {
    DK_CHANNEL_OFF,  /* no notification section: the daemon sends nothing */
    DK_CHANNEL_FILE, /* a JSON line per message appended to a file */
    DK_CHANNEL_HTTP, /* a POST per message to the gateway, WhatsApp then SMS */
} dk_channel_t;

/* notification.*: the outbox's sender (scheduler/sender.c) */
typedef struct {
    int channel; /* dk_channel_t */
    char *file;  /* DK_CHANNEL_FILE: appended to */
    char *url;   /* DK_CHANNEL_HTTP: the gateway */
    char *token_file;
    char *token; /* read from token_file; erased by dk_config_free */
    int rate;    /* messages started per second at most */
    int max_in_flight;
    int connect_timeout_ms;
    int timeout_ms;
    int max_attempts; /* tries of a channel before it gives up */
    int backoff_base_ms;
    int backoff_max_ms;
    int lease_seconds;     /* a claimed row comes back after this long */
    int poll_seconds;      /* the poll beside LISTEN/NOTIFY */
    int otp_valid_seconds; /* an older code is failed, never sent */
    int retention_days;
    char *metrics_file; /* node_exporter's textfile collector; NULL: none */
    int metrics_seconds;
    char *templates[DK_NOTIFY_KINDS];
} dk_notify_config_t;

typedef struct {
    char *conninfo;
    char *redis_address; /* "host:port" or "unix:/path"; or the Sentinels: */
    /* redis.sentinel.addresses ("host:port" each) and .master_name: the
     * master is asked of them (scheduler/redis_sentinel.c) */
    char **redis_sentinels;
    int redis_nsentinels;
    char *redis_master_name;
    /* redis.sentinel.auth_file: the Sentinels' credentials, as below */
    char *sentinel_auth_file;
    char *sentinel_user;
    char *sentinel_password;
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
    int reminder_at;  /* the day-before reminders of appointments */
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
    dk_notify_config_t notify;
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
