#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "db.h"
#include "delivery_budget.h"
#include "job.h"
#include "jobs.h"
#include "job_reconcile.h"
#include "log.h"
#include "redis.h"
#include "redis_sentinel.h"
#include "sender.h"
#include "wib.h"

static volatile sig_atomic_t dk_reload_requested;

typedef struct {
    const char *config_path;
    dk_config_t cfg;
    dk_db_t db;
    dk_redis_t redis;
    dk_sender_t sender; /* the outbox's thread */
    int64_t last_slot[DK_JOB_COUNT];
    time_t next_epoch_check;
    time_t next_connect;
    int stale_checked;
    int budget_synced; /* the periods of this configuration are rows */
} dk_daemon_t;

static void
dk_on_stop(int sig)
{
    (void)sig;
    dk_stop_requested = 1;
}

static void
dk_on_hup(int sig)
{
    (void)sig;
    dk_reload_requested = 1;
}

void
dk_signals_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    /* the first stops at a safe point; SA_RESETHAND lets the second one
     * end the process at once */
    sa.sa_handler = dk_on_stop;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = dk_on_hup;
    sa.sa_flags = 0;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The latest slot at or before now: a job at HH:MM WIB. */
static int64_t
dk_slot_latest(time_t now, int at_minutes)
{
    int64_t slot =
        (int64_t)dk_wib_today(now) * 86400 + at_minutes * 60 - DK_WIB_OFFSET;

    return slot > now ? slot - 86400 : slot;
}

static void
dk_daemon_disconnect(dk_daemon_t *d)
{
    dk_db_close(&d->db);
    dk_redis_close(&d->redis);
}

/* PostgreSQL is needed for everything; Redis only for reconcile, so a
 * Redis that is down holds up no delivery batch. */
static int
dk_daemon_connect(dk_daemon_t *d)
{
    char q[DK_ERRSTR_LEN + 8];
    time_t now = time(NULL);
    dk_err_t err;

    if (d->db.conn != NULL && PQstatus(d->db.conn) != CONNECTION_OK)
        dk_db_close(&d->db);
    if ((d->db.conn != NULL && d->redis.ctx != NULL) || now < d->next_connect)
        return d->db.conn != NULL ? DK_OK : DK_ERR;
    d->next_connect = now + 5;
    if (d->db.conn == NULL) {
        if (dk_db_connect(&d->db, d->cfg.conninfo) != DK_OK) {
            dk_log_error("postgres_unavailable", "error=%s",
                         dk_log_quote(d->db.err.str, q, sizeof(q)));
            return DK_ERR;
        }
        dk_log_info("connected", "to=postgres");
        d->budget_synced = 0;
    }
    /* at once, not at the next batch: a changed amount or period reaches
     * the module's submissions with the reload */
    if (!d->budget_synced) {
        if (dk_budget_sync(&d->db, &d->cfg, dk_wib_today(dk_clock_now()),
                           &err) != DK_OK)
            dk_log_error("budget_sync_failed", "error=%s",
                         dk_log_quote(err.str, q, sizeof(q)));
        else
            d->budget_synced = 1;
    }
    if (!d->stale_checked) {
        if (dk_job_fail_stale(&d->db, &err) != DK_OK)
            return DK_ERR;
        d->stale_checked = 1;
    }
    if (d->redis.ctx != NULL)
        return DK_OK;
    if (dk_redis_open(&d->redis, &d->cfg) != DK_OK)
        dk_log_error(d->redis.auth_refused ? "redis_auth_failed"
                                           : "redis_unavailable",
                     "error=%s", dk_log_quote(d->redis.err.str, q, sizeof(q)));
    else
        dk_log_info("connected", "to=redis address=%s history=%s",
                    d->redis.address, d->redis.replid);
    return DK_OK;
}

/* A job that failed because a server went away is run again once the
 * connection is back (the failed slot is taken over); any other failure
 * waits for the next slot or a restart. */
static int
dk_daemon_lost_connection(dk_daemon_t *d)
{
    return d->db.conn == NULL || PQstatus(d->db.conn) != CONNECTION_OK ||
           d->redis.ctx == NULL;
}

/* systemctl status shows the budget as the last batch left it */
static void
dk_daemon_status_budget(json_t *counts)
{
    const char *period =
        json_string_value(json_object_get(counts, "budget_period"));

    if (period == NULL)
        return;
    sd_notifyf(0,
               "STATUS=waiting for the next slot; delivery budget %s: "
               "%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
               " used, %" JSON_INTEGER_FORMAT " left",
               period,
               json_integer_value(json_object_get(counts, "budget_used")),
               json_integer_value(json_object_get(counts, "budget_amount")),
               json_integer_value(json_object_get(counts, "budget_left")));
}

static int
dk_daemon_job(dk_daemon_t *d, dk_job_id_t id, const char *trigger, int64_t slot)
{
    dk_job_t job;
    int rc;

    memset(&job, 0, sizeof(job));
    job.id = id;
    job.handler = dk_job_handler(id);
    job.cfg = &d->cfg;
    job.db = &d->db;
    job.redis = &d->redis;
    job.trigger = trigger;
    rc = dk_job_run(&job, slot);
    if (rc == DK_OK && id == DK_JOB_DELIVERY_BATCH)
        dk_daemon_status_budget(job.counts);
    if (job.counts != NULL)
        json_decref(job.counts);
    if (rc == DK_ERR && job.err.str[0] != '\0' && job.run_id == 0) {
        char q[DK_ERRSTR_LEN + 8];

        dk_log_error("run_not_started", "job=%s error=%s", dk_job_name(id),
                     dk_log_quote(job.err.str, q, sizeof(q)));
    }
    return rc;
}

static void
dk_daemon_slots(dk_daemon_t *d)
{
    static const dk_job_id_t scheduled[] = {DK_JOB_DELIVERY_BATCH,
                                            DK_JOB_RECONCILE, DK_JOB_REMINDER};
    int at[DK_JOB_COUNT];
    size_t i;
    int rc;

    at[DK_JOB_DELIVERY_BATCH] = d->cfg.delivery_batch_at;
    at[DK_JOB_RECONCILE] = d->cfg.reconcile_at;
    at[DK_JOB_REMINDER] = d->cfg.reminder_at; /* -1: not scheduled */
    for (i = 0; i < sizeof(scheduled) / sizeof(scheduled[0]); i++) {
        dk_job_id_t id = scheduled[i];
        int64_t slot = dk_slot_latest(dk_clock_now(), at[id]);

        if (at[id] < 0 || dk_stop_requested || slot == d->last_slot[id])
            continue;
        if (id == DK_JOB_RECONCILE && d->redis.ctx == NULL)
            continue;
        rc = dk_daemon_job(d, id, "slot", slot);
        if (rc == DK_DONE)
            dk_log_info("slot_skipped", "job=%s slot=%lld reason=already_run",
                        dk_job_name(id), (long long)slot);
        /* busy: another instance holds the job; ask again next tick */
        if (rc == DK_BUSY || (rc == DK_ERR && dk_daemon_lost_connection(d)))
            continue;
        d->last_slot[id] = slot;
    }
}

static void
dk_daemon_epoch(dk_daemon_t *d)
{
    time_t now = time(NULL);
    int present;

    /* a daemon that does not reconcile leaves the rebuild to one that does */
    if (now < d->next_epoch_check || dk_stop_requested ||
        d->redis.ctx == NULL || d->cfg.reconcile_at < 0)
        return;
    d->next_epoch_check = now + d->cfg.redis_epoch_check_seconds;
    present = dk_reconcile_epoch_present(&d->redis);
    if (present == 0) {
        dk_log_warn("epoch_missing", "history=%s action=rebuild",
                    d->redis.replid);
        sd_notify(0, "STATUS=rebuilding the Redis state from PostgreSQL");
        dk_daemon_job(d, DK_JOB_RECONCILE, "epoch_missing", -1);
        sd_notify(0, "STATUS=waiting for the next slot");
    }
}

static void
dk_daemon_reload(dk_daemon_t *d)
{
    char q[DK_ERRSTR_LEN + 8];
    dk_config_t cfg;
    dk_err_t err;

    dk_reload_requested = 0;
    sd_notify(0, "RELOADING=1");
    if (dk_config_load(&cfg, d->config_path, &err) != DK_OK) {
        dk_log_error("config_reload_failed", "keeping=old error=%s",
                     dk_log_quote(err.str, q, sizeof(q)));
    } else {
        dk_config_free(&d->cfg);
        d->cfg = cfg;
        dk_daemon_disconnect(d);
        d->next_connect = 0;
        d->budget_synced = 0;
        dk_sender_request_reload(&d->sender);
        dk_log_info("config_reloaded", "file=%s",
                    dk_log_quote(d->config_path, q, sizeof(q)));
    }
    sd_notify(0, "READY=1");
}

int
dk_daemon_run(const char *config_path, dk_config_t *cfg)
{
    dk_daemon_t d;
    int i;

    memset(&d, 0, sizeof(d));
    d.config_path = config_path;
    d.cfg = *cfg;
    for (i = 0; i < DK_JOB_COUNT; i++)
        d.last_slot[i] = -1;

    if (dk_sender_start(&d.sender, config_path) != DK_OK) {
        dk_log_error("sender_start_failed", NULL);
        dk_config_free(&d.cfg);
        return DK_ERR;
    }

    dk_log_info("daemon_start", "pid=%d", (int)getpid());
    sd_notify(0, "READY=1\nSTATUS=waiting for the next slot");
    while (!dk_stop_requested) {
        if (dk_reload_requested)
            dk_daemon_reload(&d);
        if (dk_daemon_connect(&d) == DK_OK) {
            dk_daemon_slots(&d);
            dk_daemon_epoch(&d);
        }
        if (!dk_stop_requested && !dk_reload_requested)
            sleep(1); /* a signal ends it early */
    }
    sd_notify(0, "STOPPING=1");
    dk_sender_join(&d.sender);
    dk_log_info("daemon_stop", "reason=signal");
    dk_daemon_disconnect(&d);
    dk_config_free(&d.cfg);
    return DK_OK;
}
