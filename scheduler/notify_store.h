/*
 * The outbox in PostgreSQL, as the sender sees it, on a connection of its own
 * that LISTENs to dk_notification: claims of due rows (FOR UPDATE SKIP
 * LOCKED, with a lease), the settlement of tries, retention, the figures.
 */
#ifndef DK_NOTIFY_STORE_H
#define DK_NOTIFY_STORE_H

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "notify_message.h"

/* Connects, LISTENs and bounds each statement's time. */
int dk_store_connect(dk_db_t *db, const char *conninfo);

/* Reads what arrived on the socket: 1 if a dk_notification came, 0 if not,
 * DK_ERR if the connection is lost. */
int dk_store_woken(dk_db_t *db);

/* Claims at most limit due rows, OTPs first, oldest first, for
 * cfg->lease_seconds: each counts a try on its channel (WhatsApp first, the
 * file for the file channel) and is rendered. A row whose text cannot be
 * made, or an OTP older than otp_valid_seconds, is settled failed at once.
 * *claimed: the messages (a list, the caller's to free), *n how many rows came.
 */
int dk_store_claim(dk_db_t *db, const dk_notify_config_t *cfg, int limit,
                   dk_message_t **claimed, int *n);

/* Settles tries in one statement: ops is an array of {id, attempts, via,
 * op: sent|retry|fallback|failed|release, delay_ms, error}. A row another
 * daemon has claimed since (its lease ran out) is left alone. *applied: the
 * ids settled (a JSON object id -> 1), the caller's to json_decref. */
int dk_store_settle(dk_db_t *db, json_t *ops, json_t **applied);

/* Deletes rows created more than days ago, in batches; the count. */
int dk_store_retention(dk_db_t *db, int days, long long *deleted);

/* The queued rows by kind and channel ("pending" before a first claim),
 * {"kind|channel": n}, and the age in seconds of the oldest. */
int dk_store_figures(dk_db_t *db, json_t **queued, double *oldest);

#endif
