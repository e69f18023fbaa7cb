/*
 * The http channel: a POST of {"id","to","channel","text"} per message to the
 * gateway, with the bearer token and Idempotency-Key: <id>, through libcurl's
 * multi interface: several in flight, each with its connect and total
 * timeouts, on the daemon's own loop (dk_http_wait).
 */
#ifndef DK_NOTIFY_HTTP_H
#define DK_NOTIFY_HTTP_H

#include <curl/curl.h>

#include "config.h"
#include "notify_message.h"

typedef struct {
    CURLM *multi;
    int in_flight;
    char err[CURL_ERROR_SIZE];
} dk_http_t;

int dk_http_init(dk_http_t *h);
/* Once no transfer is in flight (dk_http_cancel). */
void dk_http_free(dk_http_t *h);

/* Ends m's transfer without an answer (status 0). */
void dk_http_cancel(dk_http_t *h, dk_message_t *m);

/* Starts the POST of m; DK_ERR with m->error when it cannot start. */
int dk_http_start(dk_http_t *h, const dk_notify_config_t *cfg, dk_message_t *m);

/* Moves the transfers on and hands each one finished to done, with
 * m->status (0: no answer) and m->error. */
void dk_http_perform(dk_http_t *h, void (*done)(void *ctx, dk_message_t *m),
                     void *ctx);

/* Waits at most max_ms for a transfer's socket or for extra_fd (-1: none)
 * to be ready, or a signal. */
void dk_http_wait(dk_http_t *h, int extra_fd, int max_ms);

#endif
