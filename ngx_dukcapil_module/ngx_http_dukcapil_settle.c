
/*
 * Settling a booking whose outcome is unknown: asked every second, for two
 * minutes; after that the nightly reconcile settles it.  A worker settles
 * at most NGX_HTTP_DUKCAPIL_SETTLE_MAX bookings at once (a Redis frozen at
 * the rush leaves thousands); the others are left to reconcile at once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_dukcapil_settle.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_sql.h"


#define NGX_HTTP_DUKCAPIL_SETTLE_EVERY  1000
#define NGX_HTTP_DUKCAPIL_SETTLE_TRIES  120
#define NGX_HTTP_DUKCAPIL_SETTLE_MAX    4096


typedef struct {
    ngx_event_t                       timer;
    ngx_http_dukcapil_job_t          *job;
    ngx_http_dukcapil_appointment_t  *appointment;
    ngx_http_dukcapil_job_pt          committed;
    ngx_uint_t                        backend;
    ngx_uint_t                        attempts;
    char                              pid[NGX_INT_T_LEN + 1];
} ngx_http_dukcapil_settle_t;


static ngx_http_dukcapil_settle_t *ngx_http_dukcapil_settle_create(
    ngx_http_dukcapil_job_t *job, ngx_http_dukcapil_appointment_t *a,
    ngx_event_handler_pt handler);
static void ngx_http_dukcapil_settle_ask(ngx_event_t *ev);
static void ngx_http_dukcapil_settle_answer(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_settle_release(ngx_event_t *ev);
static void ngx_http_dukcapil_settle_released(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_settle_again(ngx_http_dukcapil_settle_t *st);
static void ngx_http_dukcapil_settle_end(ngx_http_dukcapil_settle_t *st,
    ngx_uint_t how);


static ngx_uint_t  ngx_http_dukcapil_settling;


void
ngx_http_dukcapil_settle_insert(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, ngx_uint_t backend,
    ngx_http_dukcapil_job_pt committed)
{
    ngx_http_dukcapil_settle_t  *st;

    st = ngx_http_dukcapil_settle_create(job, a, ngx_http_dukcapil_settle_ask);
    if (st == NULL) {
        return;
    }

    st->backend = backend;
    st->committed = committed;

    ngx_add_timer(&st->timer, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
}


void
ngx_http_dukcapil_settle_admission(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a)
{
    ngx_http_dukcapil_settle_t  *st;

    st = ngx_http_dukcapil_settle_create(job, a,
                                         ngx_http_dukcapil_settle_release);
    if (st == NULL) {
        return;
    }

    /* at once: on the connection the call went out on, behind it */
    ngx_http_dukcapil_settle_release(&st->timer);
}


/* the 503 goes out now; NULL when the booking is left to reconcile */

static ngx_http_dukcapil_settle_t *
ngx_http_dukcapil_settle_create(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, ngx_event_handler_pt handler)
{
    ngx_http_dukcapil_settle_t  *st;

    st = NULL;

    if (ngx_http_dukcapil_settling < NGX_HTTP_DUKCAPIL_SETTLE_MAX
        && !ngx_exiting)
    {
        st = ngx_pcalloc(job->pool, sizeof(ngx_http_dukcapil_settle_t));
    }

    if (st == NULL) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking %s: outcome unknown, left to "
                      "reconcile", a->code);
        ngx_http_dukcapil_metrics_settled(NGX_HTTP_DUKCAPIL_SETTLED_LEFT);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return NULL;
    }

    ngx_http_dukcapil_settling++;

    st->job = job;
    st->appointment = a;

    st->timer.handler = handler;
    st->timer.data = st;
    st->timer.log = job->log;
    st->timer.cancelable = 1;

    ngx_log_error(NGX_LOG_WARN, job->log, 0,
                  "dukcapil: booking %s: outcome unknown, settling", a->code);

    /* the answer is not the outcome: the key stays claimed until then */
    job->keep = 1;
    job->unsettled = 1;

    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);

    return st;
}


static void
ngx_http_dukcapil_settle_ask(ngx_event_t *ev)
{
    ngx_http_dukcapil_job_t     *job;
    ngx_http_dukcapil_settle_t  *st;

    st = ev->data;
    job = st->job;

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

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1 || PQgetvalue(res, 0, 1)[0] != 'f')
    {
        /* PostgreSQL is away, or the backend still runs the INSERT */
        ngx_http_dukcapil_settle_again(st);
        return;
    }

    if (PQgetvalue(res, 0, 0)[0] == 't') {
        ngx_log_error(NGX_LOG_WARN, job->log, 0,
                      "dukcapil: booking %s settled: committed", a->code);
        ngx_http_dukcapil_settle_end(st, NGX_HTTP_DUKCAPIL_SETTLED_COMMITTED);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, job->log, 0,
                  "dukcapil: booking %s settled: not committed, giving the "
                  "slot back", a->code);

    st->attempts = 0;
    st->timer.handler = ngx_http_dukcapil_settle_release;

    ngx_http_dukcapil_settle_release(&st->timer);
}


/* asked until Redis answers: whether it released one or none */

static void
ngx_http_dukcapil_settle_release(ngx_event_t *ev)
{
    ngx_http_dukcapil_settle_t  *st;

    st = ev->data;

    ngx_http_dukcapil_admission_release(st->job, st->appointment,
                                        ngx_http_dukcapil_settle_released,
                                        st);
}


static void
ngx_http_dukcapil_settle_released(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_settle_t *st = data;

    st->job->redis = NULL;

    if (rc != NGX_OK) {
        ngx_http_dukcapil_settle_again(st);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, st->job->log, 0,
                   "dukcapil: booking %s settled: released",
                   st->appointment->code);

    ngx_http_dukcapil_settle_end(st, NGX_HTTP_DUKCAPIL_SETTLED_RELEASED);
}


static void
ngx_http_dukcapil_settle_again(ngx_http_dukcapil_settle_t *st)
{
    if (++st->attempts >= NGX_HTTP_DUKCAPIL_SETTLE_TRIES || ngx_exiting) {
        ngx_log_error(NGX_LOG_ERR, st->job->log, 0,
                      "dukcapil: booking %s not settled, left to reconcile",
                      st->appointment->code);
        ngx_http_dukcapil_settle_end(st, NGX_HTTP_DUKCAPIL_SETTLED_LEFT);
        return;
    }

    ngx_add_timer(&st->timer, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
}


/*
 * The key's final answer, and the job's end: the 201 of the committed row,
 * or a 503 that lets the key go, so that a retry is decided afresh.
 */
static void
ngx_http_dukcapil_settle_end(ngx_http_dukcapil_settle_t *st, ngx_uint_t how)
{
    ngx_http_dukcapil_job_t  *job;

    job = st->job;

    ngx_http_dukcapil_settling--;
    ngx_http_dukcapil_metrics_settled(how);

    if (st->timer.timer_set) {
        ngx_del_timer(&st->timer);
    }

    job->keep = 0;
    job->unsettled = 0;

    if (how == NGX_HTTP_DUKCAPIL_SETTLED_COMMITTED) {
        st->committed(job);
        return;
    }

    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}
