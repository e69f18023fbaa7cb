#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "notify_file.h"
#include "notify_store.h"
#include "sender.h"

/* claims of the file channel: a batch of lines, one fdatasync */
#define DK_SENDER_FILE_BATCH 500
/* an answer is written to PostgreSQL this long after it came, at most */
#define DK_SENDER_SETTLE_MS 20

static void dk_sender_settle_soon(dk_sender_t *s);

static int64_t
dk_sender_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A line per try: the phone masked, never the text (a code is a secret). */
static void
dk_sender_log(dk_log_level_t level, const char *event, const dk_message_t *m,
              const char *extra)
{
    char masked[DK_PHONE_MAX];

    dk_phone_mask(m->phone, strlen(m->phone), masked, sizeof(masked));
    dk_log(level, event, "id=%lld kind=%s channel=%s to=%s attempt=%d%s%s",
           m->id, dk_notify_kind_name(m->kind), dk_via_name(m->via), masked,
           m->attempts, extra ? " " : "", extra ? extra : "");
}

/* Records what becomes of m's try; the row is settled by the next flush. */
static void
dk_sender_settle(dk_sender_t *s, dk_message_t *m, const char *op, long delay)
{
    json_t *o = json_pack(
        "{s:I, s:i, s:s, s:s, s:I, s:s, s:i}", "id", (json_int_t)m->id,
        "attempts", m->attempts, "via", dk_via_name(m->via), "op", op,
        "delay_ms", (json_int_t)delay, "error", m->error, "kind", m->kind);

    if (o != NULL)
        json_array_append_new(s->ops, o);
    dk_sender_settle_soon(s);
}

/* A try has ended: sent, again later, by SMS, or given up. */
static void
dk_sender_done(void *ctx, dk_message_t *m)
{
    dk_sender_t *s = ctx;
    const dk_notify_config_t *n = &s->cfg->notify;
    dk_message_t **p;
    char extra[DK_ERRSTR_LEN], q[200];
    dk_next_t next;
    long delay = 0;

    for (p = &s->flying; *p != NULL; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    /* a text that cannot be made is no channel's fault */
    next = m->status < 0 ? DK_NEXT_FAILED
                         : dk_notify_next(dk_notify_try_outcome(m->status),
                                          m->via == DK_VIA_WHATSAPP,
                                          m->attempts, n->max_attempts);
    dk_log_quote(m->error, q, sizeof(q));
    switch (next) {
    case DK_NEXT_SENT:
        dk_sender_settle(s, m, "sent", 0);
        dk_sender_log(DK_LOG_INFO, "notification_sent", m, NULL);
        break;
    case DK_NEXT_RETRY:
        delay = dk_notify_backoff_ms(m->attempts, n->backoff_base_ms,
                                     n->backoff_max_ms, drand48());
        dk_sender_settle(s, m, "retry", delay);
        snprintf(extra, sizeof(extra), "error=%s retry_in_ms=%ld", q, delay);
        dk_sender_log(DK_LOG_WARN, "notification_retry", m, extra);
        if (s->next_claim > dk_sender_now() + delay)
            s->next_claim = dk_sender_now() + delay;
        break;
    case DK_NEXT_FALLBACK:
        dk_sender_settle(s, m, "fallback", 0);
        snprintf(extra, sizeof(extra), "error=%s next=sms", q);
        dk_sender_log(DK_LOG_WARN, "notification_fallback", m, extra);
        s->woken = 1;
        break;
    case DK_NEXT_FAILED:
        dk_sender_settle(s, m, "failed", 0);
        snprintf(extra, sizeof(extra), "error=%s", q);
        dk_sender_log(DK_LOG_ERROR, "notification_failed", m, extra);
        break;
    }
    free(m);
}

static void
dk_sender_count(dk_sender_t *s, json_t *op)
{
    const char *what = json_string_value(json_object_get(op, "op"));
    const char *via = json_string_value(json_object_get(op, "via"));
    int kind = (int)json_integer_value(json_object_get(op, "kind"));
    int c = strcmp(via, "sms") == 0
                ? DK_VIA_SMS
                : (strcmp(via, "file") == 0 ? DK_VIA_FILE : DK_VIA_WHATSAPP);

    if (kind < 0 || kind >= DK_NOTIFY_KINDS)
        return;
    if (strcmp(what, "sent") == 0)
        s->counts.sent[kind][c]++;
    else if (strcmp(what, "failed") == 0 || strcmp(what, "fallback") == 0)
        s->counts.failed[kind][c]++;
    else if (strcmp(what, "retry") == 0)
        s->counts.retried[kind][c]++;
}

static void
dk_sender_lost(dk_sender_t *s, const char *what)
{
    char q[DK_ERRSTR_LEN + 8];

    dk_log_error("sender_postgres_lost", "during=%s error=%s", what,
                 dk_log_quote(s->db.err.str, q, sizeof(q)));
    dk_db_close(&s->db);
    s->next_connect = dk_sender_now() + 2000;
}

/* Writes the settlements; kept for the next try when PostgreSQL fails.
 * Unless forced, they wait to be a batch (DK_SENDER_SETTLE_MS at most): one
 * statement for many answers. */
static int
dk_sender_flush(dk_sender_t *s, int force)
{
    json_t *applied, *op;
    size_t i;

    if (json_array_size(s->ops) == 0 || s->db.conn == NULL)
        return DK_OK;
    if (!force && s->http.in_flight > 0 &&
        json_array_size(s->ops) < (size_t)s->cfg->notify.max_in_flight / 2 &&
        dk_sender_now() < s->settle_by)
        return DK_OK;
    if (dk_store_settle(&s->db, s->ops, &applied) != DK_OK) {
        dk_sender_lost(s, "settle");
        return DK_ERR;
    }
    json_array_foreach(s->ops, i, op)
    {
        char id[24];

        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(op, "id")));
        if (json_object_get(applied, id) != NULL)
            dk_sender_count(s, op);
        else
            dk_log_warn("notification_settle_skipped",
                        "id=%s reason=claimed_again", id);
    }
    json_decref(applied);
    json_array_clear(s->ops);
    return DK_OK;
}

static void
dk_sender_settle_soon(dk_sender_t *s)
{
    if (json_array_size(s->ops) == 1)
        s->settle_by = dk_sender_now() + DK_SENDER_SETTLE_MS;
}

static int
dk_sender_connect(dk_sender_t *s, int64_t now)
{
    char q[DK_ERRSTR_LEN + 8];

    if (s->db.conn != NULL)
        return DK_OK;
    if (now < s->next_connect)
        return DK_ERR;
    if (dk_store_connect(&s->db, s->cfg->conninfo) != DK_OK) {
        dk_log_error("sender_postgres_unavailable", "error=%s",
                     dk_log_quote(s->db.err.str, q, sizeof(q)));
        s->next_connect = now + 5000;
        return DK_ERR;
    }
    dk_log_info("sender_connected", "channel=%s listen=dk_notification",
                s->cfg->notify.channel == DK_CHANNEL_HTTP ? "http" : "file");
    s->woken = 1; /* what was queued while away */
    return DK_OK;
}

static void
dk_sender_claim(dk_sender_t *s, int64_t now)
{
    const dk_notify_config_t *n = &s->cfg->notify;
    dk_message_t *got, *m, **tail;
    int limit, count;

    limit = n->channel == DK_CHANNEL_FILE
                ? DK_SENDER_FILE_BATCH
                : 2 * n->max_in_flight - s->http.in_flight - s->n_waiting;
    /* what the rate lets start within half a lease: a row claimed is sent
     * before another daemon may take it over */
    if (n->channel == DK_CHANNEL_HTTP &&
        limit > n->rate * n->lease_seconds / 2 - s->n_waiting)
        limit = n->rate * n->lease_seconds / 2 - s->n_waiting;
    if (s->stopping || n->channel == DK_CHANNEL_OFF || limit <= 0 ||
        (!s->woken && !s->more && now < s->next_claim))
        return;
    /* while some wait to start, claim only a batch worth a statement */
    if (s->n_waiting > 0 && limit < n->max_in_flight)
        return;
    if (dk_store_claim(&s->db, n, limit, &got, &count) != DK_OK) {
        dk_sender_lost(s, "claim");
        return;
    }
    s->woken = 0;
    s->more = count == limit;
    s->next_claim = now + n->poll_seconds * 1000;
    for (tail = &s->waiting; *tail != NULL; tail = &(*tail)->next)
        ;
    while (got != NULL) {
        m = got;
        got = m->next;
        m->next = NULL;
        if (m->status < 0) { /* its text cannot be made */
            dk_sender_done(s, m);
            continue;
        }
        *tail = m;
        tail = &m->next;
        s->n_waiting++;
    }
}

static dk_message_t *
dk_sender_pop(dk_sender_t *s)
{
    dk_message_t *m = s->waiting;

    if (m != NULL) {
        s->waiting = m->next;
        m->next = NULL;
        s->n_waiting--;
    }
    return m;
}

static void
dk_sender_write_file(dk_sender_t *s)
{
    dk_message_t *list = s->waiting, *m;
    char why[DK_ERRSTR_LEN];
    int rc;

    if (list == NULL)
        return;
    rc = dk_file_append(s->cfg->notify.file, list, why, sizeof(why));
    s->waiting = NULL;
    s->n_waiting = 0;
    while ((m = list) != NULL) {
        list = m->next;
        m->next = NULL;
        m->status = rc == DK_OK ? 200 : 0;
        snprintf(m->error, sizeof(m->error), "%.150s", rc == DK_OK ? "" : why);
        dk_sender_done(s, m);
    }
}

/* Starts what the rate allows: a bucket of rate tokens a second, holding a
 * tenth of a second's worth at most. */
static int
dk_sender_start_http(dk_sender_t *s, int64_t now)
{
    const dk_notify_config_t *n = &s->cfg->notify;
    double burst = n->rate / 10.0 < 1 ? 1 : n->rate / 10.0;
    dk_message_t *m;

    s->tokens += (double)(now - s->tokens_at) * n->rate / 1000.0;
    if (s->tokens > burst)
        s->tokens = burst;
    s->tokens_at = now;
    while (s->waiting != NULL && s->tokens >= 1 &&
           s->http.in_flight < n->max_in_flight) {
        m = dk_sender_pop(s);
        s->tokens -= 1;
        if (dk_http_start(&s->http, n, m) != DK_OK) {
            m->status = 0;
            dk_sender_done(s, m);
            continue;
        }
        m->next = s->flying;
        s->flying = m;
    }
    if (s->waiting == NULL || s->http.in_flight >= n->max_in_flight)
        return 1000;
    return (int)((1 - s->tokens) * 1000.0 / n->rate) + 1;
}

static void
dk_sender_timers(dk_sender_t *s, int64_t now)
{
    const dk_notify_config_t *n = &s->cfg->notify;
    char why[DK_ERRSTR_LEN], q[DK_ERRSTR_LEN + 8];
    long long deleted;
    json_t *queued;
    double oldest;

    if (now >= s->next_retention) {
        s->next_retention = now + 3600 * 1000;
        if (dk_store_retention(&s->db, n->retention_days, &deleted) != DK_OK)
            dk_sender_lost(s, "retention");
        else if (deleted > 0)
            dk_log_info("notification_retention", "deleted=%lld days=%d",
                        deleted, n->retention_days);
    }
    if (n->metrics_file == NULL || now < s->next_metrics || s->db.conn == NULL)
        return;
    s->next_metrics = now + n->metrics_seconds * 1000;
    if (dk_store_figures(&s->db, &queued, &oldest) != DK_OK) {
        dk_sender_lost(s, "metrics");
        return;
    }
    if (dk_metrics_write(n->metrics_file, &s->counts, queued, oldest, why,
                         sizeof(why)) != DK_OK)
        dk_log_error("metrics_write_failed", "error=%s",
                     dk_log_quote(why, q, sizeof(q)));
    json_decref(queued);
}

static int
dk_sender_min(int a, int64_t until, int64_t now)
{
    int64_t b = until - now;

    if (b < 0)
        b = 0;
    return b < a ? (int)b : a;
}

static int
dk_sender_step(dk_sender_t *s)
{
    const dk_notify_config_t *n = &s->cfg->notify;
    int64_t now = dk_sender_now();
    int wait = 1000, woken;
    long curl_ms = -1;

    if (s->http.in_flight > 0)
        dk_http_perform(&s->http, dk_sender_done, s);
    if (n->channel == DK_CHANNEL_OFF && s->http.in_flight == 0 &&
        json_array_size(s->ops) == 0)
        return wait;
    if (dk_sender_connect(s, now) != DK_OK)
        return dk_sender_min(wait, s->next_connect, now);
    woken = dk_store_woken(&s->db);
    if (woken == DK_ERR) {
        dk_sender_lost(s, "listen");
        return wait;
    }
    s->woken |= woken;
    dk_sender_flush(s, 0);
    if (s->db.conn != NULL)
        dk_sender_claim(s, now);
    if (n->channel == DK_CHANNEL_FILE)
        dk_sender_write_file(s);
    else if (s->waiting != NULL)
        wait = dk_sender_start_http(s, dk_sender_now());
    if (s->http.in_flight > 0)
        dk_http_perform(&s->http, dk_sender_done, s);
    if (s->db.conn != NULL)
        dk_sender_flush(s, 0);
    if (s->db.conn != NULL)
        dk_sender_timers(s, now);
    if (s->http.in_flight > 0 &&
        curl_multi_timeout(s->http.multi, &curl_ms) == CURLM_OK &&
        curl_ms >= 0 && curl_ms < wait)
        wait = (int)curl_ms;
    if (s->more || s->woken)
        wait = 0;
    if (!s->stopping)
        wait = dk_sender_min(wait, s->next_claim, now);
    if (n->metrics_file != NULL)
        wait = dk_sender_min(wait, s->next_metrics, now);
    if (json_array_size(s->ops) > 0)
        wait = dk_sender_min(wait, s->settle_by, dk_sender_now());
    return wait;
}

static void
dk_sender_wait(dk_sender_t *s, int ms)
{
    dk_http_wait(&s->http, s->db.conn ? PQsocket(s->db.conn) : -1, ms);
}

static void
dk_sender_reload(dk_sender_t *s)
{
    char q[DK_ERRSTR_LEN + 8];
    dk_config_t cfg;
    dk_err_t err;

    atomic_store(&s->reload, 0);
    if (dk_config_load(&cfg, s->config_path, &err) != DK_OK) {
        dk_log_error("sender_reload_failed", "keeping=old error=%s",
                     dk_log_quote(err.str, q, sizeof(q)));
        return;
    }
    dk_sender_flush(s, 1);
    dk_config_free(&s->own);
    s->own = cfg;
    dk_db_close(&s->db);
    s->next_connect = 0;
    s->next_metrics = 0;
}

static void
dk_sender_stop(dk_sender_t *s)
{
    int64_t deadline;
    dk_message_t *m;

    s->stopping = 1;
    while ((m = dk_sender_pop(s)) != NULL) {
        dk_sender_settle(s, m, "release", 0);
        free(m);
    }
    deadline = dk_sender_now() + s->cfg->notify.timeout_ms + 1000;
    while (s->http.in_flight > 0 && dk_sender_now() < deadline) {
        dk_http_wait(&s->http, -1, 100);
        dk_http_perform(&s->http, dk_sender_done, s);
    }
    /* past its own timeout: no answer, so it may not have gone */
    while ((m = s->flying) != NULL) {
        s->flying = m->next;
        dk_http_cancel(&s->http, m);
        dk_sender_settle(s, m, "release", 0);
        free(m);
    }
    if (json_array_size(s->ops) > 0) {
        s->next_connect = 0;
        if (dk_sender_connect(s, dk_sender_now()) == DK_OK)
            dk_sender_flush(s, 1);
    }
    if (json_array_size(s->ops) > 0)
        dk_log_warn("sender_stop_unsettled",
                    "rows=%zu after=lease (they come back when it ends)",
                    json_array_size(s->ops));
    dk_db_close(&s->db);
    dk_http_free(&s->http);
    json_decref(s->ops);
    s->ops = NULL;
    dk_log_info("sender_stop", NULL);
}

static void *
dk_sender_main(void *arg)
{
    dk_sender_t *s = arg;
    int wait;

    /* SIGTERM: the thread stops at once, while the jobs reach their safe
     * point */
    while (!atomic_load(&s->stop) && !dk_stop_requested) {
        if (atomic_load(&s->reload))
            dk_sender_reload(s);
        wait = dk_sender_step(s);
        if (wait > 1000)
            wait = 1000;
        if (wait > 0 && !atomic_load(&s->stop) && !dk_stop_requested)
            dk_sender_wait(s, wait);
    }
    dk_sender_stop(s);
    return NULL;
}

int
dk_sender_start(dk_sender_t *s, const char *config_path)
{
    char q[DK_ERRSTR_LEN + 8];
    sigset_t all, old;
    dk_err_t err;
    int rc;

    memset(s, 0, sizeof(*s));
    s->config_path = config_path;
    s->cfg = &s->own;
    if (dk_config_load(&s->own, config_path, &err) != DK_OK) {
        dk_log_error("sender_config_failed", "error=%s",
                     dk_log_quote(err.str, q, sizeof(q)));
        return DK_ERR;
    }
    s->ops = json_array();
    srand48((long)time(NULL) ^ (long)getpid());
    if (s->ops == NULL || dk_http_init(&s->http) != DK_OK) {
        dk_config_free(&s->own);
        return DK_ERR;
    }
    /* the signals are the main thread's: its loop stops at a safe point */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&s->thread, NULL, dk_sender_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        dk_http_free(&s->http);
        json_decref(s->ops);
        dk_config_free(&s->own);
        return DK_ERR;
    }
    return DK_OK;
}

void
dk_sender_request_reload(dk_sender_t *s)
{
    atomic_store(&s->reload, 1);
}

void
dk_sender_join(dk_sender_t *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    dk_config_free(&s->own);
}
