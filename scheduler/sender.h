/*
 * The outbox's sender, on the daemon's loop: woken by NOTIFY dk_notification
 * (and a poll), it claims due rows, sends them through the configured
 * channel, and settles each try in PostgreSQL. Also the retention of old
 * rows and the .prom file of its figures.
 */
#ifndef DK_SENDER_H
#define DK_SENDER_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "notify_http.h"
#include "notify_message.h"
#include "notify_metrics.h"

typedef struct {
    const dk_config_t *cfg; /* the daemon's, replaced in place on reload */
    dk_db_t db;
    dk_http_t http;
    dk_message_t *waiting; /* claimed, not started yet (the rate) */
    dk_message_t *flying;  /* in flight */
    int n_waiting;
    json_t *ops; /* settlements not yet written */
    dk_notify_counts_t counts;
    int64_t next_connect, next_claim, next_metrics, next_retention;
    int woken, more, stopping;
    double tokens;
    int64_t tokens_at;
} dk_sender_t;

int dk_sender_init(dk_sender_t *s, const dk_config_t *cfg);

/* After a reload: the connection is made again with the new settings. */
void dk_sender_reload(dk_sender_t *s);

/* Does what can be done now without waiting; returns how many milliseconds
 * the loop may wait before calling it again. */
int dk_sender_step(dk_sender_t *s);

/* Waits at most ms for the sender's sockets (PostgreSQL's, the gateway's)
 * or a signal. */
void dk_sender_wait(dk_sender_t *s, int ms);

/* SIGTERM: claims nothing more, gives the rows not started back, waits for
 * the answers of those in flight (their timeout at most), settles them. */
void dk_sender_stop(dk_sender_t *s);

#endif
