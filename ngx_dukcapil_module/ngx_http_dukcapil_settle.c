
/*
 * Settling a booking whose answer was lost: asked every second, for two
 * minutes; after that the nightly reconcile settles it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_dukcapil_settle.h"
#include "ngx_http_dukcapil_sql.h"


#define NGX_HTTP_DUKCAPIL_SETTLE_EVERY  1000
#define NGX_HTTP_DUKCAPIL_SETTLE_TRIES  120


typedef struct {
    ngx_event_t                       timer;
    ngx_http_dukcapil_job_t          *job;
    ngx_http_dukcapil_appointment_t  *appointment;
    ngx_uint_t                        backend;
    ngx_uint_t                        attempts;
    char                              pid[NGX_INT_T_LEN + 1];
} ngx_http_dukcapil_settle_t;


static void ngx_http_dukcapil_settle_ask(ngx_event_t *ev);
static void ngx_http_dukcapil_settle_answer(void *data, PGresult *res,
    ngx_uint_t backend);


void
ngx_http_dukcapil_settle(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, ngx_uint_t backend)
{
    ngx_http_dukcapil_settle_t  *st;

    st = ngx_pcalloc(job->pool, sizeof(ngx_http_dukcapil_settle_t));
    if (st == NULL) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking %s not settled, left to reconcile",
                      a->code);
        ngx_http_dukcapil_job_free(job);
        return;
    }

    st->job = job;
    st->appointment = a;
    st->backend = backend;

    st->timer.handler = ngx_http_dukcapil_settle_ask;
    st->timer.data = st;
    st->timer.log = job->log;
    st->timer.cancelable = 1;

    ngx_add_timer(&st->timer, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
}


static void
ngx_http_dukcapil_settle_ask(ngx_event_t *ev)
{
    ngx_http_dukcapil_job_t     *job;
    ngx_http_dukcapil_settle_t  *st;

    st = ev->data;
    job = st->job;

    if (job->storing) {
        /* the 503 is not out yet: Redis is letting the key go first */
        ngx_add_timer(&st->timer, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
        return;
    }

    ngx_snprintf((u_char *) st->pid, sizeof(st->pid), "%ui%Z", st->backend);

    job->values[0] = st->appointment->code;
    job->values[1] = st->pid;

    job->pg = ngx_http_dukcapil_pg_query(
                  NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_SETTLE, 2, job->values,
                  NULL, ngx_http_dukcapil_settle_answer, st);
    if (job->pg == NULL) {
        ngx_http_dukcapil_settle_answer(st, NULL, 0);
    }
}


static void
ngx_http_dukcapil_settle_answer(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_settle_t *st = data;

    ngx_http_dukcapil_job_t          *job;
    ngx_http_dukcapil_appointment_t  *a;

    job = st->job;
    a = st->appointment;
    job->pg = NULL;

    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
        && PQgetvalue(res, 0, 1)[0] == 'f')
    {
        if (PQgetvalue(res, 0, 0)[0] == 't') {
            ngx_log_error(NGX_LOG_WARN, job->log, 0,
                          "dukcapil: booking %s settled: committed",
                          a->code);

        } else {
            ngx_log_error(NGX_LOG_WARN, job->log, 0,
                          "dukcapil: booking %s settled: not committed, "
                          "slot given back", a->code);
            ngx_http_dukcapil_admission_release(job, a, NULL);
        }

        ngx_http_dukcapil_job_free(job);
        return;
    }

    if (++st->attempts >= NGX_HTTP_DUKCAPIL_SETTLE_TRIES || ngx_exiting) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking %s not settled, left to reconcile",
                      a->code);
        ngx_http_dukcapil_job_free(job);
        return;
    }

    ngx_add_timer(&st->timer, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
}
