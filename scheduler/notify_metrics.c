#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "notify_metrics.h"
#include "status.h"

static void
dk_metrics_counter(FILE *f, const char *name, const char *help,
                   long long v[DK_NOTIFY_KINDS][DK_VIA_COUNT])
{
    int k, c;

    fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (k = 0; k < DK_NOTIFY_KINDS; k++) {
        for (c = 0; c < DK_VIA_COUNT; c++)
            fprintf(f, "%s{kind=\"%s\",channel=\"%s\"} %lld\n", name,
                    dk_notify_kind_name(k), dk_via_name(c), v[k][c]);
    }
}

static void
dk_metrics_queued(FILE *f, json_t *queued, double oldest)
{
    const char *key, *bar;
    json_t *n;

    fprintf(f, "# HELP dukcapil_notifications_queued Messages of the outbox "
               "waiting to be sent, by kind and channel (pending: not tried "
               "yet).\n# TYPE dukcapil_notifications_queued gauge\n");
    json_object_foreach(queued, key, n)
    {
        bar = strchr(key, '|');
        if (bar == NULL)
            continue;
        fprintf(f,
                "dukcapil_notifications_queued{kind=\"%.*s\",channel=\"%s\"} "
                "%" JSON_INTEGER_FORMAT "\n",
                (int)(bar - key), key, bar + 1, json_integer_value(n));
    }
    fprintf(f,
            "# HELP dukcapil_notifications_oldest_queued_seconds Age of "
            "the oldest message waiting to be sent (0: none).\n"
            "# TYPE dukcapil_notifications_oldest_queued_seconds gauge\n"
            "dukcapil_notifications_oldest_queued_seconds %.3f\n",
            oldest);
}

int
dk_metrics_write(const char *path, const dk_notify_counts_t *c, json_t *queued,
                 double oldest, char *why, size_t whylen)
{
    dk_notify_counts_t copy = *c;
    char tmp[4096];
    FILE *f;
    int rc;

    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    f = fopen(tmp, "w");
    if (f == NULL) {
        snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
        return DK_ERR;
    }
    dk_metrics_queued(f, queued, oldest);
    dk_metrics_counter(f, "dukcapil_notifications_sent_total",
                       "Messages this daemon sent since it started.",
                       copy.sent);
    dk_metrics_counter(f, "dukcapil_notifications_failed_total",
                       "Messages a channel gave up: on whatsapp they go on "
                       "by SMS, on sms and file they are failed for good.",
                       copy.failed);
    dk_metrics_counter(f, "dukcapil_notifications_retried_total",
                       "Tries answered 429, 5xx or nothing, to be tried "
                       "again after a back-off.",
                       copy.retried);
    rc = fflush(f) == 0 && !ferror(f) ? DK_OK : DK_ERR;
    if (fclose(f) != 0)
        rc = DK_ERR;
    if (rc == DK_OK && rename(tmp, path) != 0)
        rc = DK_ERR;
    if (rc != DK_OK) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}
