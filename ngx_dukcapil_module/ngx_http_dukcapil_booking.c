
/*
 * POST /api/v1/appointments: a booking.  The decision, the day's calendar
 * with it, is one Redis script (lua/book.lua), taken with the other
 * bookings of the event loop pass; the yes is said only after PostgreSQL
 * has committed the row, which the calendar may still refuse.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_admission.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_book_body.h"
#include "ngx_http_dukcapil_book_reply.h"
#include "ngx_http_dukcapil_idempotency.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_next_available.h"
#include "ngx_http_dukcapil_redis_script.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_settle.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_token.h"
#include "ngx_http_dukcapil_util.h"
#include "name.h"
#include "nik.h"
#include "phone.h"


/* what each answer of lua/book.lua means for the citizen */
typedef struct {
    ngx_str_t                         answer;
    ngx_uint_t                        metric;
    ngx_uint_t                        status;
    const char                       *error;
    const char                       *field;
    ngx_http_dukcapil_job_pt          handler;   /* else the error above */
} ngx_http_dukcapil_outcome_t;


typedef struct {
    ngx_http_dukcapil_appointment_t   appointment;
    ngx_str_t                         name;
    char                              phone[DK_PHONE_MAX];
    char                              queue[NGX_INT_T_LEN + 1];
    char                              now[NGX_INT64_LEN + 1];
    char                              expire[NGX_INT64_LEN + 1];
    char                              days[2][NGX_INT_T_LEN + 1];
    char                              bar[DK_KEY_MAX];
    char                              phone_bar[DK_KEY_MAX];

    /* the script's answer: its outcome, and the bar's last day */
    ngx_http_dukcapil_outcome_t      *outcome;
    ngx_str_t                         until;

    /* the script was handed the Idempotency-Key's claim */
    unsigned                          claims:1;
} ngx_http_dukcapil_booking_t;


static void ngx_http_dukcapil_book_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_book_decide(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_decided(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_book_decide_done(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_book_insert(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_full(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_barred(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_unknown(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_again(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_inserted(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_book_created(ngx_http_dukcapil_job_t *job);


static ngx_http_dukcapil_outcome_t  ngx_http_dukcapil_outcomes[] = {

    /* admitted: counted as booked once PostgreSQL has the row */
    { ngx_string("ok"), NGX_HTTP_DUKCAPIL_OUTCOMES, 0, NULL, NULL,
      ngx_http_dukcapil_book_insert },

    { ngx_string("full"), NGX_HTTP_DUKCAPIL_QUOTA_FULL, NGX_HTTP_CONFLICT,
      "quota_full", NULL, ngx_http_dukcapil_book_full },

    { ngx_string("dup"), NGX_HTTP_DUKCAPIL_ALREADY_BOOKED, NGX_HTTP_CONFLICT,
      "already_booked", NULL, NULL },

    { ngx_string("phone"), NGX_HTTP_DUKCAPIL_PHONE_LIMIT, NGX_HTTP_CONFLICT,
      "phone_limit", "phone", NULL },

    { ngx_string("closed"), NGX_HTTP_DUKCAPIL_CLOSED,
      NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid_date", "date", NULL },

    { ngx_string("bar"), NGX_HTTP_DUKCAPIL_NO_SHOW_BAR, NGX_HTTP_FORBIDDEN,
      "no_show_bar", NULL, ngx_http_dukcapil_book_barred },

    /* the Idempotency-Key exists: read it as any endpoint does */
    { ngx_string("idem"), NGX_HTTP_DUKCAPIL_OUTCOMES, 0, NULL, NULL,
      ngx_http_dukcapil_book_again },

    /* Redis lost its state: admitting now could over-book */
    { ngx_string("rebuilding"), NGX_HTTP_DUKCAPIL_REBUILDING,
      NGX_HTTP_SERVICE_UNAVAILABLE, "state_rebuilding", NULL, NULL },

    /* none, or not understood: what it may have admitted is given back */
    { ngx_null_string, NGX_HTTP_DUKCAPIL_FAILED,
      NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable", NULL,
      ngx_http_dukcapil_book_unknown }
};

#define ngx_http_dukcapil_failed                                              \
    (&ngx_http_dukcapil_outcomes[sizeof(ngx_http_dukcapil_outcomes)           \
                                 / sizeof(ngx_http_dukcapil_outcome_t) - 1])


ngx_int_t
ngx_http_dukcapil_booking_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_read_json(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_book_body);
}


static void
ngx_http_dukcapil_book_body(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_str_t                     raw;
    const char                   *field;
    ngx_http_dukcapil_job_t      *job;
    ngx_http_dukcapil_body_t      body;
    ngx_http_dukcapil_booking_t   booking, *b;

    if (ngx_http_dukcapil_body_fields(r, &raw, &body, &rc) != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_memzero(&booking, sizeof(ngx_http_dukcapil_booking_t));

    if (ngx_http_dukcapil_book_body_parse(r, &body, &booking.appointment,
                                          &booking.name, booking.phone,
                                          &field)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, ngx_http_dukcapil_send_invalid(r, field));
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1,
                                       sizeof(ngx_http_dukcapil_booking_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b = job->data;
    *b = booking;

    /* the name was in the body; the office is the configuration's */
    b->name.data = ngx_http_dukcapil_job_strdup(job, booking.name.data,
                                                booking.name.len);

    if (b->name.data == NULL
        || ngx_http_dukcapil_code('A', b->appointment.code) != NGX_OK)
    {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    /* the key's claim rides in the booking's script call (book.lua) */
    if (ngx_http_dukcapil_idempotency_prepare(job, &raw) == NGX_DONE) {
        return;
    }

    ngx_http_dukcapil_book_decide(job);
}


static void
ngx_http_dukcapil_book_decide(ngx_http_dukcapil_job_t *job)
{
    ngx_uint_t                        i;
    ngx_http_dukcapil_service_t      *service;
    ngx_http_dukcapil_booking_t      *b;
    ngx_http_dukcapil_redis_op_t     *op;
    ngx_http_dukcapil_appointment_t  *a;

    b = job->data;
    a = &b->appointment;
    service = &job->dmcf->services[a->service];

    if (ngx_http_dukcapil_admission_keys(a) != NGX_OK
        || dk_key_bar(b->bar, sizeof(b->bar), (char *) a->nik) < 0
        || dk_key_phone_bar(b->phone_bar, sizeof(b->phone_bar), b->phone,
                            ngx_strlen(b->phone)) < 0)
    {
        goto unavailable;
    }

    ngx_snprintf((u_char *) b->now, sizeof(b->now), "%uL%Z",
                 ngx_http_dukcapil_now_ms());
    ngx_snprintf((u_char *) b->expire, sizeof(b->expire), "%L%Z",
                 (int64_t) dk_key_day_expiry(a->day));
    ngx_snprintf((u_char *) b->days[0], sizeof(b->days[0]), "%D%Z",
                 ngx_http_dukcapil_today());
    ngx_snprintf((u_char *) b->days[1], sizeof(b->days[1]), "%D%Z",
                 ngx_http_dukcapil_today()
                 + (int32_t) job->dmcf->booking_window);

    /* KEYS and ARGV of one booking of lua/book.lua */
    job->argv[7] = DK_KEY_EPOCH;
    job->argv[20] = "";
    job->argv[21] = "";

    /* unless the job holds the key's claim already (book_again) */
    b->claims = (job->idempotency && job->store == NULL);

    if (b->claims) {
        ngx_http_dukcapil_idempotency_args(job, &job->argv[7],
                                           &job->argv[20], &job->argv[21]);
    }

    job->argv[0] = DK_KEY_EPOCH;
    job->argv[1] = b->bar;
    job->argv[2] = (char *) a->keys[DK_DAY_COUNTS];
    job->argv[3] = (char *) a->keys[DK_DAY_ADMISSIONS];
    job->argv[4] = (char *) a->keys[DK_DAY_NIKS];
    job->argv[5] = (char *) a->keys[DK_DAY_PHONES];
    job->argv[6] = b->phone_bar;
    job->argv[8] = (char *) service->code.data;
    job->argv[9] = (char *) service->quota_arg.data;
    job->argv[10] = (char *) a->nik;
    job->argv[11] = b->phone;
    job->argv[12] = (char *) job->dmcf->phone_cap_arg.data;
    job->argv[13] = a->code;
    job->argv[14] = b->now;
    job->argv[15] = b->expire;
    job->argv[16] = (char *) job->dmcf->phone_active_cap_arg.data;
    job->argv[17] = b->days[0];
    job->argv[18] = b->days[1];
    job->argv[19] = ngx_http_dukcapil_weekday_closed(job->dmcf, a->day)
                    ? "1" : "0";

    for (i = 0; i < 22; i++) {
        job->argvlen[i] = ngx_strlen(job->argv[i]);
    }

    job->argvlen[8] = service->code.len;
    job->argvlen[9] = service->quota_arg.len;
    job->argvlen[10] = 16;
    job->argvlen[12] = job->dmcf->phone_cap_arg.len;

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_book_decided,
                                    ngx_http_dukcapil_book_decide_done, job);
    if (op == NULL) {
        goto unavailable;
    }

    /* decided with the other bookings of this event loop pass */
    (void) ngx_http_dukcapil_script(op, NGX_HTTP_DUKCAPIL_SCRIPT_BOOK, 8, 22,
                                    job->argv, job->argvlen);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        goto unavailable;
    }

    job->redis = op;
    return;

unavailable:

    ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_FAILED);
    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/* "<outcome>" or "<outcome> <detail>": see lua/book.lua */

static void
ngx_http_dukcapil_book_decided(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_str_t                     word;
    dk_span_t                     outcome, detail;
    ngx_http_dukcapil_outcome_t  *o;
    ngx_http_dukcapil_booking_t  *b;

    b = job->data;

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking script failed: %s", reply->str);
        return;
    }

    if (reply->type != REDIS_REPLY_STRING
        || dk_book_line(reply->str, reply->len, &outcome, &detail) != 0)
    {
        return;
    }

    word.data = (u_char *) outcome.data;
    word.len = outcome.len;

    for (o = ngx_http_dukcapil_outcomes; o->answer.len; o++) {
        if (o->answer.len == word.len
            && ngx_strncmp(o->answer.data, word.data, word.len) == 0)
        {
            break;
        }
    }

    if (o->answer.len == 0) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking script answered \"%V\"", &word);
        return;
    }

    if (o->handler == ngx_http_dukcapil_book_insert) {
        if (detail.len >= sizeof(b->queue)
            || dk_queue_number(detail.data, detail.len) <= 0)
        {
            return;
        }

        ngx_memcpy(b->queue, detail.data, detail.len);
        b->queue[detail.len] = '\0';

    } else if (o->handler == ngx_http_dukcapil_book_barred && detail.len) {
        b->until.data = ngx_http_dukcapil_job_strdup(job,
                                                 (u_char *) detail.data,
                                                 detail.len);
        b->until.len = b->until.data ? detail.len : 0;
    }

    b->outcome = o;
}


static void
ngx_http_dukcapil_book_decide_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_outcome_t  *o;
    ngx_http_dukcapil_booking_t  *b;

    job->redis = NULL;
    b = job->data;

    o = (rc == NGX_OK && b->outcome) ? b->outcome : ngx_http_dukcapil_failed;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, job->log, 0,
                   "dukcapil: booking %s decided: %V", b->appointment.code,
                   &o->answer);

    if (o->metric < NGX_HTTP_DUKCAPIL_OUTCOMES) {
        ngx_http_dukcapil_metrics_booking(o->metric);
    }

    /*
     * Admitted, the script claimed the key: the answer is the key's.  A
     * refusal never claims it.  With no answer the key may be this job's
     * claim or another request's stored answer (the script answers "idem"
     * first): it is left alone, and a claim of this job expires with its
     * lifetime, as nothing was inserted.
     */
    if (b->claims && o->handler == ngx_http_dukcapil_book_insert) {
        ngx_http_dukcapil_idempotency_claimed_by_script(job);
    }

    if (o->handler) {
        o->handler(job);
        return;
    }

    ngx_http_dukcapil_job_error(job, o->status, o->error, o->field);
}


static void
ngx_http_dukcapil_book_insert(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_booking_t      *b;
    ngx_http_dukcapil_appointment_t  *a;

    b = job->data;
    a = &b->appointment;

    job->values[0] = a->code;
    job->values[1] = (char *) a->nik;
    job->values[2] = (char *) b->name.data;
    job->values[3] = b->phone;
    job->values[4] = (char *) a->office.data;
    job->values[5] = (char *) job->dmcf->services[a->service].code.data;
    job->values[6] = a->date;
    job->values[7] = b->queue;
    job->values[8] = job->argv[19];     /* book.lua's: a closed weekday */
    job->values[9] = NULL;          /* its deadline, written when sent */

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_INSERT,
                                10, ngx_http_dukcapil_book_inserted);
}


static void
ngx_http_dukcapil_book_full(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_appointment_t  *a;

    a = &((ngx_http_dukcapil_booking_t *) job->data)->appointment;

    ngx_http_dukcapil_next_available(job, &a->office, a->service, a->day,
                                     ngx_http_dukcapil_quota_full);
}


static void
ngx_http_dukcapil_book_barred(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_book_reply_barred(job,
        &((ngx_http_dukcapil_booking_t *) job->data)->until);
}


/*
 * The script's answer was lost (Redis paused or slow past the timeout, the
 * connection gone) or not understood: it may have admitted the booking.
 * No INSERT is sent, so whatever it admitted is given back.
 */
static void
ngx_http_dukcapil_book_unknown(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_settle_admission(job,
        &((ngx_http_dukcapil_booking_t *) job->data)->appointment);
}


/*
 * The request's Idempotency-Key exists: it is claimed as any endpoint's key
 * is, which answers its first answer, "in progress" or a mismatch; a key
 * gone meanwhile is the job's then, and the booking is decided again.
 */
static void
ngx_http_dukcapil_book_again(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_idempotency_claim(job, NULL,
                                        ngx_http_dukcapil_book_decide);
}


static void
ngx_http_dukcapil_book_inserted(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_uint_t                        row;
    ngx_http_dukcapil_appointment_t  *a;

    job->pg = NULL;
    a = &((ngx_http_dukcapil_booking_t *) job->data)->appointment;

    /* (inserted, in time, bookable): sql.c */
    row = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (row && PQgetvalue(res, 0, 0)[0] == 't') {
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_BOOKED);
        ngx_http_dukcapil_book_created(job);
        return;
    }

    if (res == NULL && backend) {
        /*
         * The INSERT reached PostgreSQL but no answer came: it may have
         * committed.  The citizen hears 503 now; the admission stays until
         * the booking is settled (or, failing that, reconcile settles it).
         */
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_FAILED);
        ngx_http_dukcapil_settle_insert(job, a, backend,
                                        ngx_http_dukcapil_book_created);
        return;
    }

    ngx_http_dukcapil_admission_release(job, a, NULL, NULL);

    /* the date closed between Redis's yes and the row (005_calendar.sql) */
    if (row && PQgetvalue(res, 0, 2)[0] == 'f') {
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_CLOSED);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                    "invalid_date", "date");
        return;
    }

    if (row && PQgetvalue(res, 0, 1)[0] == 't') {
        /* an active appointment at another office on the same date */
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_ALREADY_BOOKED);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT, "already_booked",
                                    NULL);
        return;
    }

    if (row) {
        /* no row: the statement ran after its deadline, the module's 503 */
        ngx_log_error(NGX_LOG_WARN, job->log, 0,
                      "dukcapil: booking %s: the INSERT ran after its "
                      "deadline and inserted nothing", a->code);

    } else if (res) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking %s refused by postgres: %s",
                      a->code, ngx_http_dukcapil_pg_error(res));
    }

    ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_FAILED);
    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/* the committed row's answer: at once, or once settled (settle.c) */

static void
ngx_http_dukcapil_book_created(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_booking_t  *b;

    b = job->data;

    ngx_http_dukcapil_book_reply_created(job, &b->appointment, b->queue);
}
