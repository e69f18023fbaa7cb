/*
 * The sender's figures for Prometheus, in node_exporter's textfile-collector
 * format: a .prom file written whole to a temporary file and renamed over
 * the old one, so the collector never reads half of it.
 */
#ifndef DK_NOTIFY_METRICS_H
#define DK_NOTIFY_METRICS_H

#include <jansson.h>
#include <stddef.h>

#include "notify_message.h"

/* counted by this daemon since it started, by kind and channel */
typedef struct {
    long long sent[DK_NOTIFY_KINDS][DK_VIA_COUNT];
    long long failed[DK_NOTIFY_KINDS][DK_VIA_COUNT];
    long long retried[DK_NOTIFY_KINDS][DK_VIA_COUNT];
} dk_notify_counts_t;

/* queued: {"kind|channel": n} (dk_store_figures); oldest: seconds. */
int dk_metrics_write(const char *path, const dk_notify_counts_t *c,
                     json_t *queued, double oldest, char *why, size_t whylen);

#endif
