/*
 * The outbox's sender, a thread of the daemon beside its jobs (a night's
 * batch never holds a verification code up): woken by NOTIFY
 * dk_notification (and a poll), it claims due rows, sends them through the
 * configured channel, and settles each try in PostgreSQL. Also the
 * retention of old rows and the .prom file of its figures.
 */
#ifndef DK_SENDER_H
#define DK_SENDER_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "notify_http.h"
#include "notify_message.h"
#include "notify_metrics.h"

typedef struct {
    const char *config_path;
    dk_config_t own; /* the thread's copy of the configuration */
    const dk_config_t *cfg;
    pthread_t thread;
    atomic_int stop;
    atomic_int reload; /* asked for, not yet done */
    dk_db_t db;
    dk_http_t http;
    dk_message_t *waiting; /* claimed, not started yet (the rate) */
    dk_message_t *flying;  /* in flight */
    int n_waiting;
    json_t *ops; /* settlements not yet written */
    dk_notify_counts_t counts;
    int64_t next_connect, next_claim, next_metrics, next_retention;
    int64_t settle_by; /* the settlements waiting are written by then */
    int woken, more, stopping;
    double tokens;
    int64_t tokens_at;
} dk_sender_t;

/* Reads config_path for the sender's own copy and starts its thread (which
 * sends nothing when notification.channel is absent). */
int dk_sender_start(dk_sender_t *s, const char *config_path);

/* SIGHUP: the thread rereads the file (a bad one keeps the old copy) and
 * connects again. */
void dk_sender_request_reload(dk_sender_t *s);

/* SIGTERM: claims nothing more, gives the rows not started back, waits for
 * the answers of those in flight (their timeout at most), settles them,
 * and ends the thread. */
void dk_sender_join(dk_sender_t *s);

#endif
