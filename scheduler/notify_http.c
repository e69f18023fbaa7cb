#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_http.h"
#include "status.h"

/* what a transfer owns besides its message */
typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
} dk_transfer_t;

const char *
dk_via_name(int via)
{
    static const char *names[DK_VIA_COUNT] = {"whatsapp", "sms", "file"};

    return via >= 0 && via < DK_VIA_COUNT ? names[via] : "unknown";
}

int
dk_http_init(dk_http_t *h)
{
    memset(h, 0, sizeof(*h));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return DK_ERR;
    h->multi = curl_multi_init();
    return h->multi != NULL ? DK_OK : DK_ERR;
}

/* The gateway's answer is not read: its status says it all. */
static size_t
dk_http_discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

static void
dk_http_release(dk_http_t *h, dk_message_t *m)
{
    dk_transfer_t *t = m->transfer;

    if (t == NULL)
        return;
    curl_multi_remove_handle(h->multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t);
    m->transfer = NULL;
    h->in_flight--;
}

static char *
dk_http_body(const dk_message_t *m)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", m->id_s, "to", m->phone,
                          "channel", dk_via_name(m->via), "text", m->text);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return body;
}

static int
dk_http_headers(dk_transfer_t *t, const dk_notify_config_t *cfg,
                const dk_message_t *m)
{
    static const char *fixed[] = {"Content-Type: application/json",
                                  "Accept: application/json", "Expect:"};
    char line[4200];
    struct curl_slist *l;
    size_t i;

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if ((l = curl_slist_append(t->headers, fixed[i])) == NULL)
            return DK_ERR;
        t->headers = l;
    }
    snprintf(line, sizeof(line), "Idempotency-Key: %s", m->id_s);
    if ((l = curl_slist_append(t->headers, line)) == NULL)
        return DK_ERR;
    t->headers = l;
    snprintf(line, sizeof(line), "Authorization: Bearer %s", cfg->token);
    l = curl_slist_append(t->headers, line);
    explicit_bzero(line, sizeof(line));
    if (l == NULL)
        return DK_ERR;
    t->headers = l;
    return DK_OK;
}

int
dk_http_start(dk_http_t *h, const dk_notify_config_t *cfg, dk_message_t *m)
{
    dk_transfer_t *t = calloc(1, sizeof(*t));
    char *body = dk_http_body(m);
    CURL *e = curl_easy_init();

    if (t == NULL || body == NULL || e == NULL ||
        dk_http_headers(t, cfg, m) != DK_OK) {
        if (t != NULL)
            curl_slist_free_all(t->headers);
        free(t);
        free(body);
        if (e != NULL)
            curl_easy_cleanup(e);
        snprintf(m->error, sizeof(m->error), "cannot start: out of memory");
        return DK_ERR;
    }
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, cfg->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)cfg->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, dk_http_discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, m);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "dukcapil-scheduler");
    free(body);
    m->transfer = t;
    h->in_flight++;
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        dk_http_release(h, m);
        snprintf(m->error, sizeof(m->error), "cannot start the transfer");
        return DK_ERR;
    }
    return DK_OK;
}

void
dk_http_perform(dk_http_t *h, void (*done)(void *ctx, dk_message_t *m),
                void *ctx)
{
    dk_transfer_t *t;
    dk_message_t *m;
    CURLMsg *msg;
    int running, left;
    char *priv;

    curl_multi_perform(h->multi, &running);
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        m = (dk_message_t *)priv;
        t = m->transfer;
        m->status = 0;
        if (msg->data.result == CURLE_OK) {
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &m->status);
            snprintf(m->error, sizeof(m->error), "gateway answered %ld",
                     m->status);
        } else {
            snprintf(m->error, sizeof(m->error), "%.150s",
                     t->errbuf[0] ? t->errbuf
                                  : curl_easy_strerror(msg->data.result));
        }
        dk_http_release(h, m);
        done(ctx, m);
    }
}

void
dk_http_wait(dk_http_t *h, int extra_fd, int max_ms)
{
    struct curl_waitfd w;

    w.fd = extra_fd;
    w.events = CURL_WAIT_POLLIN;
    w.revents = 0;
    /* unlike curl_multi_wait, waits max_ms even with nothing to wait for */
    curl_multi_poll(h->multi, extra_fd >= 0 ? &w : NULL, extra_fd >= 0, max_ms,
                    NULL);
}

void
dk_http_cancel(dk_http_t *h, dk_message_t *m)
{
    dk_http_release(h, m);
    m->status = 0;
    snprintf(m->error, sizeof(m->error), "stopped before an answer");
}

void
dk_http_free(dk_http_t *h)
{
    if (h->multi != NULL)
        curl_multi_cleanup(h->multi);
    h->multi = NULL;
}
