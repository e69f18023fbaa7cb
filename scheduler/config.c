/*
 * Configuration from YAML with libyaml's document loader: the tree is walked
 * with the dotted path of each key, looked up in dk_config_keys (netplan's
 * table of {key, type, offsetof}).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "net_address.h"
#include "config_secret.h"

typedef enum {
    DK_CONF_STRING,
    DK_CONF_INT,
    DK_CONF_CLOCK, /* "HH:MM" */
    DK_CONF_TIMEZONE,
    DK_CONF_AUTH_FILE,     /* a path; the file is read into the user and
                            * password fields that follow the path's */
    DK_CONF_ADDRESSES,     /* a list of "host:port", into redis_sentinels */
    DK_CONF_PERIOD_START,  /* "MM-DD", into budget_rule */
    DK_CONF_PERIOD_MONTHS, /* 1, 2, 3, 4, 6 or 12, into budget_rule */
    DK_CONF_REMOVED,       /* a key of an older version: refused, with why */
    DK_CONF_CHANNEL,       /* "http" or "file" */
    DK_CONF_SECRET_FILE,   /* a path; the file's one line into notify.token */
    DK_CONF_TEMPLATE,      /* a message's text; min is its kind */
} dk_conf_type_t;

typedef struct {
    const char *key;
    dk_conf_type_t type;
    size_t offset;
    int min, max;
    int required;
} dk_conf_key_t;

#define DK_CONF_OFF(field) offsetof(dk_config_t, field)
#define DK_CONF_NOTIFY(field) offsetof(dk_config_t, notify.field)
#define DK_CONF_TPL(kind, name)                                                \
    {                                                                          \
        "notification.templates." name, DK_CONF_TEMPLATE,                      \
            DK_CONF_NOTIFY(templates[kind]), kind, 0, 0                        \
    }

static const dk_conf_key_t dk_config_keys[] = {
    {"postgres.conninfo", DK_CONF_STRING, DK_CONF_OFF(conninfo), 0, 0, 1},
    {"redis.address", DK_CONF_STRING, DK_CONF_OFF(redis_address), 0, 0, 0},
    {"redis.sentinel.addresses", DK_CONF_ADDRESSES,
     DK_CONF_OFF(redis_sentinels), 0, 0, 0},
    {"redis.sentinel.master_name", DK_CONF_STRING,
     DK_CONF_OFF(redis_master_name), 0, 0, 0},
    {"redis.sentinel.auth_file", DK_CONF_AUTH_FILE,
     DK_CONF_OFF(sentinel_auth_file), 0, 0, 0},
    {"redis.auth_file", DK_CONF_AUTH_FILE, DK_CONF_OFF(redis_auth_file), 0, 0,
     0},
    {"redis.epoch_check_seconds", DK_CONF_INT,
     DK_CONF_OFF(redis_epoch_check_seconds), 1, 10, 0},
    {"redis.rebuild_settle_seconds", DK_CONF_INT,
     DK_CONF_OFF(redis_rebuild_settle_seconds), 0, 60, 0},
    {"timezone", DK_CONF_TIMEZONE, DK_CONF_OFF(timezone), 0, 0, 0},
    {"jobs.delivery_batch.at", DK_CONF_CLOCK, DK_CONF_OFF(delivery_batch_at), 0,
     0, 0},
    {"jobs.reconcile.at", DK_CONF_CLOCK, DK_CONF_OFF(reconcile_at), 0, 0, 0},
    {"jobs.reminder.at", DK_CONF_CLOCK, DK_CONF_OFF(reminder_at), 0, 0, 0},
    {"delivery.budget_total", DK_CONF_INT, DK_CONF_OFF(budget_total), 0,
     10000000, 0},
    {"delivery.budget_period_start", DK_CONF_PERIOD_START,
     DK_CONF_OFF(budget_rule), 0, 0, 0},
    {"delivery.budget_period_months", DK_CONF_PERIOD_MONTHS,
     DK_CONF_OFF(budget_rule), 0, 0, 0},
    {"delivery.budget_period", DK_CONF_REMOVED, 0, 0, 0, 0},
    {"delivery.per_night_cap", DK_CONF_INT, DK_CONF_OFF(per_night_cap), 1,
     10000000, 0},
    {"delivery.batch_size", DK_CONF_INT, DK_CONF_OFF(batch_size), 1, 100000, 0},
    {"delivery.outbox_dir", DK_CONF_STRING, DK_CONF_OFF(outbox_dir), 0, 0, 1},
    {"delivery.city", DK_CONF_STRING, DK_CONF_OFF(city), 0, 0, 0},
    {"delivery.manifest_retention_days", DK_CONF_INT,
     DK_CONF_OFF(manifest_retention_days), 1, 3660, 0},
    {"delivery.max_attempts", DK_CONF_INT, DK_CONF_OFF(max_attempts), 1, 10, 0},
    {"delivery.pickup_after_days", DK_CONF_INT, DK_CONF_OFF(pickup_after_days),
     1, 3660, 0},
    {"appointments.window_days", DK_CONF_INT, DK_CONF_OFF(window_days), 1, 366,
     0},
    {"appointments.admission_grace_seconds", DK_CONF_INT,
     DK_CONF_OFF(admission_grace_seconds), 1, 86400, 0},
    {"no_show.count", DK_CONF_INT, DK_CONF_OFF(no_show_count), 1, 1000, 0},
    {"no_show.within_days", DK_CONF_INT, DK_CONF_OFF(no_show_within_days), 1,
     3660, 0},
    {"no_show.bar_days", DK_CONF_INT, DK_CONF_OFF(no_show_bar_days), 1, 3660,
     0},
    {"notification.channel", DK_CONF_CHANNEL, DK_CONF_NOTIFY(channel), 0, 0, 0},
    {"notification.file", DK_CONF_STRING, DK_CONF_NOTIFY(file), 0, 0, 0},
    {"notification.http.url", DK_CONF_STRING, DK_CONF_NOTIFY(url), 0, 0, 0},
    {"notification.http.token_file", DK_CONF_SECRET_FILE,
     DK_CONF_NOTIFY(token_file), 0, 0, 0},
    {"notification.http.rate", DK_CONF_INT, DK_CONF_NOTIFY(rate), 1, 100000, 0},
    {"notification.http.max_in_flight", DK_CONF_INT,
     DK_CONF_NOTIFY(max_in_flight), 1, 1024, 0},
    {"notification.http.connect_timeout_ms", DK_CONF_INT,
     DK_CONF_NOTIFY(connect_timeout_ms), 10, 60000, 0},
    {"notification.http.timeout_ms", DK_CONF_INT, DK_CONF_NOTIFY(timeout_ms),
     10, 300000, 0},
    {"notification.max_attempts", DK_CONF_INT, DK_CONF_NOTIFY(max_attempts), 1,
     100, 0},
    {"notification.backoff_base_ms", DK_CONF_INT,
     DK_CONF_NOTIFY(backoff_base_ms), 1, 3600000, 0},
    {"notification.backoff_max_ms", DK_CONF_INT, DK_CONF_NOTIFY(backoff_max_ms),
     1, 86400000, 0},
    {"notification.lease_seconds", DK_CONF_INT, DK_CONF_NOTIFY(lease_seconds),
     5, 3600, 0},
    {"notification.poll_seconds", DK_CONF_INT, DK_CONF_NOTIFY(poll_seconds), 1,
     3600, 0},
    {"notification.otp_valid_seconds", DK_CONF_INT,
     DK_CONF_NOTIFY(otp_valid_seconds), 30, 86400, 0},
    {"notification.retention_days", DK_CONF_INT, DK_CONF_NOTIFY(retention_days),
     1, 3660, 0},
    {"notification.metrics_file", DK_CONF_STRING, DK_CONF_NOTIFY(metrics_file),
     0, 0, 0},
    {"notification.metrics_seconds", DK_CONF_INT,
     DK_CONF_NOTIFY(metrics_seconds), 1, 3600, 0},
    DK_CONF_TPL(DK_NOTIFY_OTP, "otp"),
    DK_CONF_TPL(DK_NOTIFY_APPOINTMENT_BOOKED, "appointment_booked"),
    DK_CONF_TPL(DK_NOTIFY_APPOINTMENT_CANCELLED, "appointment_cancelled"),
    DK_CONF_TPL(DK_NOTIFY_APPOINTMENT_CANCELLED_BY_OFFICE,
                "appointment_cancelled_by_office"),
    DK_CONF_TPL(DK_NOTIFY_APPOINTMENT_REMINDER, "appointment_reminder"),
    DK_CONF_TPL(DK_NOTIFY_APPLICATION_SUBMITTED, "application_submitted"),
    DK_CONF_TPL(DK_NOTIFY_APPLICATION_REJECTED, "application_rejected"),
    DK_CONF_TPL(DK_NOTIFY_APPLICATION_READY, "application_ready"),
    DK_CONF_TPL(DK_NOTIFY_APPLICATION_SHIPPED, "application_shipped"),
    DK_CONF_TPL(DK_NOTIFY_DELIVERY_DELIVERED, "delivery_delivered"),
    DK_CONF_TPL(DK_NOTIFY_DELIVERY_FAILED, "delivery_failed"),
};

#define DK_CONF_NKEYS (sizeof(dk_config_keys) / sizeof(dk_config_keys[0]))
#define DK_CONF_PATH_MAX 128

typedef struct {
    const char *file;
    yaml_document_t *doc;
    dk_config_t *cfg;
    unsigned char seen[DK_CONF_NKEYS];
    dk_err_t *err;
} dk_conf_walk_t;

static void
dk_config_defaults(dk_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->redis_epoch_check_seconds = 5;
    cfg->redis_rebuild_settle_seconds = 10;
    cfg->delivery_batch_at = 1 * 60;
    cfg->reconcile_at = 2 * 60;
    cfg->budget_total = 2500;
    cfg->budget_rule.start_month = 1;
    cfg->budget_rule.start_day = 1;
    cfg->budget_rule.months = 12;
    cfg->per_night_cap = 500;
    cfg->batch_size = 100;
    cfg->manifest_retention_days = 30;
    cfg->max_attempts = 3;
    cfg->pickup_after_days = 30;
    cfg->window_days = 14;
    cfg->admission_grace_seconds = 120;
    cfg->no_show_count = 2;
    cfg->no_show_within_days = 30;
    cfg->no_show_bar_days = 14;
    cfg->reminder_at = -1; /* no jobs.reminder.at: no reminders */
    cfg->notify.rate = 50;
    cfg->notify.max_in_flight = 32;
    cfg->notify.connect_timeout_ms = 2000;
    cfg->notify.timeout_ms = 10000;
    cfg->notify.max_attempts = 5;
    cfg->notify.backoff_base_ms = 2000;
    cfg->notify.backoff_max_ms = 600000;
    cfg->notify.lease_seconds = 60;
    cfg->notify.poll_seconds = 2;
    cfg->notify.otp_valid_seconds = 300;
    cfg->notify.retention_days = 90;
    cfg->notify.metrics_seconds = 15;
}

void
dk_config_free(dk_config_t *cfg)
{
    size_t i;

    for (i = 0; i < DK_CONF_NKEYS; i++) {
        const dk_conf_key_t *k = &dk_config_keys[i];

        if (k->type == DK_CONF_STRING || k->type == DK_CONF_TIMEZONE ||
            k->type == DK_CONF_AUTH_FILE || k->type == DK_CONF_SECRET_FILE ||
            k->type == DK_CONF_TEMPLATE) {
            char **p = (char **)((char *)cfg + k->offset);

            free(*p);
            *p = NULL;
        }
    }
    dk_config_free_secret(&cfg->redis_user);
    dk_config_free_secret(&cfg->redis_password);
    dk_config_free_secret(&cfg->sentinel_user);
    dk_config_free_secret(&cfg->sentinel_password);
    for (i = 0; i < (size_t)cfg->redis_nsentinels; i++)
        free(cfg->redis_sentinels[i]);
    free(cfg->redis_sentinels);
    cfg->redis_sentinels = NULL;
    cfg->redis_nsentinels = 0;
    dk_config_free_secret(&cfg->notify.token);
}

static int
dk_conf_error(dk_conf_walk_t *w, yaml_node_t *node, const char *reason,
              const char *key)
{
    return dk_err_set(w->err, "%s:%zu:%zu: %s '%s'", w->file,
                      node->start_mark.line + 1, node->start_mark.column + 1,
                      reason, key);
}

static int
dk_conf_parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return DK_ERR;
    *out = (int)v;
    return DK_OK;
}

static int
dk_conf_parse_clock(const char *s, int *out)
{
    int h, m;

    /* a daemon that runs no such job (a second sender, say): -1 */
    if (strcmp(s, "off") == 0) {
        *out = -1;
        return DK_OK;
    }
    if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
        s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' ||
        s[4] > '9')
        return DK_ERR;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23)
        return DK_ERR;
    *out = h * 60 + m;
    return DK_OK;
}

static int
dk_conf_keep_string(dk_conf_walk_t *w, char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
    if (*field == NULL)
        return dk_err_set(w->err, "out of memory");
    return DK_OK;
}

/* Every "day" is a WIB day: any other zone would silently move the jobs. */
static int
dk_conf_timezone_ok(const char *s)
{
    return strcmp(s, "Asia/Jakarta") == 0 || strcmp(s, "WIB") == 0 ||
           strcmp(s, "+07:00") == 0;
}

/* A list of "host:port" (IP addresses: the scheduler resolves no name,
 * as the module does not), at least one. */
static int
dk_conf_addresses(dk_conf_walk_t *w, const dk_conf_key_t *k, yaml_node_t *node)
{
    yaml_node_item_t *item;
    yaml_node_t *v;
    char **list, host[64];
    const char *s;
    int n = 0, port;

    if (node->type != YAML_SEQUENCE_NODE ||
        node->data.sequence.items.top == node->data.sequence.items.start)
        return dk_conf_error(w, node, "expected a list of host:port for",
                             k->key);
    list =
        calloc(node->data.sequence.items.top - node->data.sequence.items.start,
               sizeof(*list));
    if (list == NULL)
        return dk_err_set(w->err, "out of memory");
    w->cfg->redis_sentinels = list;
    for (item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        v = yaml_document_get_node(w->doc, *item);
        if (v == NULL || v->type != YAML_SCALAR_NODE)
            return dk_conf_error(w, node, "expected host:port in", k->key);
        s = (const char *)v->data.scalar.value;
        if (dk_address_split(s, host, sizeof(host), &port) != DK_OK)
            return dk_conf_error(w, v, "expected IP:port, not", s);
        if ((list[n++] = strdup(s)) == NULL)
            return dk_err_set(w->err, "out of memory");
        w->cfg->redis_nsentinels = n;
    }
    return DK_OK;
}

static int
dk_conf_set(dk_conf_walk_t *w, const dk_conf_key_t *k, yaml_node_t *node)
{
    const char *v = (const char *)node->data.scalar.value;
    void *field = (char *)w->cfg + k->offset;
    char reason[96];

    if (k->type == DK_CONF_ADDRESSES)
        return dk_conf_addresses(w, k, node);
    if (node->type != YAML_SCALAR_NODE)
        return dk_conf_error(w, node, "expected a single value for", k->key);

    switch (k->type) {
    case DK_CONF_AUTH_FILE:
    case DK_CONF_SECRET_FILE:
        if (*v == '\0')
            return dk_conf_error(w, node, "empty value for", k->key);
        if ((k->type == DK_CONF_AUTH_FILE
                 ? dk_config_read_redis_auth(v, (char **)field + 1,
                                             (char **)field + 2, reason,
                                             sizeof(reason))
                 : dk_config_read_token(v, &w->cfg->notify.token, reason,
                                        sizeof(reason))) != DK_OK)
            return dk_err_set(w->err, "%s:%zu:%zu: %s: file '%s' %s", w->file,
                              node->start_mark.line + 1,
                              node->start_mark.column + 1, k->key, v, reason);
        return dk_conf_keep_string(w, field, v);

    case DK_CONF_STRING:
    case DK_CONF_TIMEZONE:
        if (*v == '\0')
            return dk_conf_error(w, node, "empty value for", k->key);
        if (k->type == DK_CONF_TIMEZONE && !dk_conf_timezone_ok(v))
            return dk_conf_error(
                w, node, "only Asia/Jakarta (WIB) is supported, not", v);
        return dk_conf_keep_string(w, field, v);

    case DK_CONF_INT:
        if (dk_conf_parse_int(v, k->min, k->max, field) != DK_OK) {
            snprintf(reason, sizeof(reason), "expected an integer %d..%d for",
                     k->min, k->max);
            return dk_conf_error(w, node, reason, k->key);
        }
        return DK_OK;

    case DK_CONF_CLOCK:
        if (dk_conf_parse_clock(v, field) != DK_OK)
            return dk_conf_error(w, node, "expected HH:MM (WIB) or off for",
                                 k->key);
        return DK_OK;

    case DK_CONF_PERIOD_START:
        if (dk_budget_start_parse(v, strlen(v), field) != 0)
            return dk_conf_error(w, node,
                                 "expected MM-DD, a day 01..28 of a month, for",
                                 k->key);
        return DK_OK;

    case DK_CONF_PERIOD_MONTHS:
        if (dk_conf_parse_int(v, 1, 12, &w->cfg->budget_rule.months) != DK_OK ||
            !dk_budget_months_valid(w->cfg->budget_rule.months))
            return dk_conf_error(
                w, node, "expected 1, 2, 3, 4, 6 or 12 (months) for", k->key);
        return DK_OK;

    case DK_CONF_CHANNEL:
        if (strcmp(v, "http") != 0 && strcmp(v, "file") != 0)
            return dk_conf_error(w, node, "expected http or file for", k->key);
        *(int *)field = v[0] == 'h' ? DK_CHANNEL_HTTP : DK_CHANNEL_FILE;
        return DK_OK;

    case DK_CONF_TEMPLATE:
        if (dk_notify_template_check(k->min, v, reason, sizeof(reason)) != 0)
            return dk_conf_error(w, node, reason, k->key);
        return dk_conf_keep_string(w, field, v);

    case DK_CONF_ADDRESSES: /* dk_conf_addresses, above */
        break;
    case DK_CONF_REMOVED:
        return dk_conf_error(w, node,
                             "a budget period is dates now: remove it "
                             "(budget_period_start and budget_period_months "
                             "say when periods start)",
                             k->key);
    }
    return DK_ERR;
}

/* 1 if some known key lies below the mapping at path. */
static int
dk_conf_is_section(const char *path)
{
    size_t i, n = strlen(path);

    for (i = 0; i < DK_CONF_NKEYS; i++) {
        if (strncmp(dk_config_keys[i].key, path, n) == 0 &&
            dk_config_keys[i].key[n] == '.')
            return 1;
    }
    return 0;
}

static int
dk_conf_walk(dk_conf_walk_t *w, yaml_node_t *map, const char *prefix)
{
    yaml_node_pair_t *pair;
    char path[DK_CONF_PATH_MAX];
    size_t i;

    for (pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(w->doc, pair->value);

        if (key == NULL || value == NULL || key->type != YAML_SCALAR_NODE)
            return dk_conf_error(w, key ? key : map, "expected a key", "");

        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
                 (const char *)key->data.scalar.value);

        if (value->type == YAML_MAPPING_NODE) {
            if (!dk_conf_is_section(path))
                return dk_conf_error(w, key, "unknown key", path);
            if (dk_conf_walk(w, value, path) != DK_OK)
                return DK_ERR;
            continue;
        }

        for (i = 0; i < DK_CONF_NKEYS; i++) {
            if (strcmp(dk_config_keys[i].key, path) == 0)
                break;
        }
        if (i == DK_CONF_NKEYS)
            return dk_conf_error(w, key, "unknown key", path);
        if (w->seen[i])
            return dk_conf_error(w, key, "duplicate key", path);
        w->seen[i] = 1;
        if (dk_conf_set(w, &dk_config_keys[i], value) != DK_OK)
            return DK_ERR;
    }
    return DK_OK;
}

/* A channel has what it needs; a kind without its template takes the
 * default one. */
static int
dk_conf_check_notify(dk_conf_walk_t *w, dk_notify_config_t *n)
{
    int i;

    if (n->channel == DK_CHANNEL_FILE && n->file == NULL)
        return dk_err_set(w->err,
                          "%s: notification.channel file needs "
                          "notification.file",
                          w->file);
    if (n->channel == DK_CHANNEL_HTTP &&
        (n->url == NULL || n->token_file == NULL))
        return dk_err_set(w->err,
                          "%s: notification.channel http needs "
                          "notification.http.url and .token_file",
                          w->file);
    if (n->backoff_max_ms < n->backoff_base_ms)
        return dk_err_set(w->err,
                          "%s: notification.backoff_max_ms is below "
                          "notification.backoff_base_ms",
                          w->file);
    for (i = 0; i < DK_NOTIFY_KINDS; i++) {
        if (n->templates[i] == NULL &&
            (n->templates[i] = strdup(dk_notify_default_template(i))) == NULL)
            return dk_err_set(w->err, "out of memory");
    }
    return DK_OK;
}

static int
dk_conf_check_required(dk_conf_walk_t *w)
{
    size_t i;

    for (i = 0; i < DK_CONF_NKEYS; i++) {
        if (dk_config_keys[i].required && !w->seen[i])
            return dk_err_set(w->err, "%s: missing key '%s'", w->file,
                              dk_config_keys[i].key);
    }
    if ((w->cfg->redis_address == NULL) == (w->cfg->redis_sentinels == NULL))
        return dk_err_set(w->err,
                          "%s: redis needs either address or "
                          "sentinel.addresses (not both)",
                          w->file);
    if ((w->cfg->redis_sentinels == NULL) !=
        (w->cfg->redis_master_name == NULL))
        return dk_err_set(w->err,
                          "%s: redis.sentinel needs both addresses and "
                          "master_name",
                          w->file);
    if (w->cfg->timezone == NULL)
        w->cfg->timezone = strdup("Asia/Jakarta");
    if (w->cfg->city == NULL)
        w->cfg->city = strdup("Pekanbaru");
    if (w->cfg->timezone == NULL || w->cfg->city == NULL)
        return dk_err_set(w->err, "out of memory");
    return dk_conf_check_notify(w, &w->cfg->notify);
}

int
dk_config_load_buffer(dk_config_t *cfg, const char *name, const char *data,
                      size_t len, dk_err_t *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    dk_conf_walk_t w;
    int rc = DK_ERR;

    dk_config_defaults(cfg);
    yaml_parser_initialize(&parser);
    /* libyaml asserts on a NULL string, even an empty one */
    yaml_parser_set_input_string(
        &parser, (const unsigned char *)(data ? data : ""), len);
    if (!yaml_parser_load(&parser, &doc)) {
        dk_err_set(err, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                   parser.problem_mark.column + 1,
                   parser.problem ? parser.problem : "invalid YAML");
        yaml_parser_delete(&parser);
        return DK_ERR;
    }

    memset(&w, 0, sizeof(w));
    w.file = name;
    w.doc = &doc;
    w.cfg = cfg;
    w.err = err;

    root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        dk_err_set(err, "%s: empty configuration", name);
    else if (root->type != YAML_MAPPING_NODE)
        dk_conf_error(&w, root, "expected a mapping of keys, found", "value");
    else if (dk_conf_walk(&w, root, "") == DK_OK)
        rc = dk_conf_check_required(&w);

    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc != DK_OK)
        dk_config_free(cfg);
    return rc;
}

/* The file is read whole (it is small), so that the file and a buffer go
 * through the same parser. */
int
dk_config_load(dk_config_t *cfg, const char *path, dk_err_t *err)
{
    FILE *f;
    char *data = NULL, *p;
    size_t len = 0, cap = 0, n;
    int rc;

    dk_config_defaults(cfg);
    f = fopen(path, "r");
    if (f == NULL)
        return dk_err_set(err, "%s: %s", path, strerror(errno));
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 8192;
            p = realloc(data, cap);
            if (p == NULL) {
                free(data);
                fclose(f);
                return dk_err_set(err, "out of memory");
            }
            data = p;
        }
        n = fread(data + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    rc = ferror(f) ? dk_err_set(err, "%s: %s", path, strerror(errno))
                   : dk_config_load_buffer(cfg, path, data, len, err);
    free(data);
    fclose(f);
    return rc;
}
