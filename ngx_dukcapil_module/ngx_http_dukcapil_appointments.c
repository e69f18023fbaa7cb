
/*
 * Appointments with daily quotas: availability, booking, reading and
 * cancelling.  The booking decision is one Redis script; the yes is said
 * only after PostgreSQL has committed the row.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_module.h"
#include "ngx_http_dukcapil_request.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_sql.h"
#include "nik.h"
#include "name.h"
#include "phone.h"
#include "wib.h"


typedef struct {
    ngx_str_t                     office;
    ngx_uint_t                    service;
    int32_t                       day;
    int32_t                       to;          /* availability: last day */
    char                          date[DK_DATE_LEN + 1];
    char                          code[DK_CODE_LEN + 1];
    u_char                        nik[17];
    char                          phone[DK_PHONE_MAX];
    u_char                       *name;
    char                          queue[NGX_INT_T_LEN + 1];
    char                          now[NGX_INT64_LEN + 1];
    char                          expire[NGX_INT64_LEN + 1];
    char                          today[DK_DATE_LEN + 1];
    u_char                        keys[4][80];
    u_char                        bar[32];
    u_char                        field[16];

    /* the script's answer */
    ngx_str_t                     outcome;
    ngx_str_t                     until;

    /* a booking whose answer was lost, until it is settled */
    ngx_event_t                   settle;
    ngx_uint_t                    backend;
    ngx_uint_t                    attempts;
    char                          pid[NGX_INT_T_LEN + 1];

    /* availability and next_available: one reply per day */
    ngx_int_t                    *quotas;
    ngx_int_t                    *booked;
} ngx_http_dukcapil_booking_t;


/*
 * The minute a day opens, nearly every answer is quota_full: the day
 * offered instead is remembered for a second per worker, so that a full
 * day costs one Redis script and nothing more.
 */
#define NGX_HTTP_DUKCAPIL_SETTLE_EVERY  1000
#define NGX_HTTP_DUKCAPIL_SETTLE_TRIES  120

#define NGX_HTTP_DUKCAPIL_NEXT_CACHE  64
#define NGX_HTTP_DUKCAPIL_NEXT_TTL    1000

typedef struct {
    u_char                       *office;     /* the configuration's code */
    ngx_uint_t                    service;
    int32_t                       day;
    int32_t                       next;       /* -1: none */
    ngx_msec_t                    expires;
} ngx_http_dukcapil_next_t;

static ngx_http_dukcapil_next_t
    ngx_http_dukcapil_next_cache[NGX_HTTP_DUKCAPIL_NEXT_CACHE];


static void ngx_http_dukcapil_availability_reply(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_availability_done(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_book_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_dukcapil_book_parse(ngx_http_request_t *r,
    ngx_http_dukcapil_body_t *body, ngx_http_dukcapil_booking_t *b,
    const char **field);
static void ngx_http_dukcapil_book_decide(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_decided(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_book_decide_done(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_book_full(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_book_full_done(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_book_full_reply(ngx_http_dukcapil_job_t *job,
    int32_t next);
static ngx_http_dukcapil_next_t *ngx_http_dukcapil_next_entry(
    ngx_http_dukcapil_booking_t *b);
static void ngx_http_dukcapil_book_inserted(void *data, PGresult *res,
    ngx_uint_t sent);
static void ngx_http_dukcapil_book_settle(ngx_event_t *ev);
static void ngx_http_dukcapil_book_settled(void *data, PGresult *res,
    ngx_uint_t sent);
static void ngx_http_dukcapil_release(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_redis_done_pt done);
static void ngx_http_dukcapil_release_done(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_cancel_released(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_day_reply(void *data, ngx_uint_t index,
    redisReply *reply);
static ngx_int_t ngx_http_dukcapil_appointment_get(ngx_http_request_t *r);
static void ngx_http_dukcapil_appointment_got(void *data, PGresult *res,
    ngx_uint_t sent);
static ngx_int_t ngx_http_dukcapil_appointment_cancel(ngx_http_request_t *r);
static void ngx_http_dukcapil_appointment_cancelled(void *data, PGresult *res,
    ngx_uint_t sent);
static void ngx_http_dukcapil_day_keys(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_no_op(void *data, ngx_uint_t index,
    redisReply *reply);


static const char  *ngx_http_dukcapil_day_key_names[] = {
    "day", "adm", "nik", "phone"
};


/* GET /api/v1/availability?office=mpp&from=D&to=D */

ngx_int_t
ngx_http_dukcapil_availability_handler(ngx_http_request_t *r)
{
    u_char                         *key;
    int32_t                         from, to, d;
    ngx_int_t                       rc;
    ngx_str_t                       office;
    ngx_http_dukcapil_job_t        *job;
    ngx_http_dukcapil_booking_t    *b;
    ngx_http_dukcapil_redis_op_t   *op;
    ngx_http_dukcapil_main_conf_t  *dmcf;
    char                            date[DK_DATE_LEN + 1];

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    if (ngx_http_arg(r, (u_char *) "office", 6, &office) != NGX_OK
        || ngx_http_dukcapil_office(dmcf, &office) == NULL)
    {
        return ngx_http_dukcapil_send_invalid(r, "office");
    }

    if (ngx_http_dukcapil_arg_date(r, "from", 4, &from) != NGX_OK) {
        return ngx_http_dukcapil_send_invalid(r, "from");
    }

    if (ngx_http_dukcapil_arg_date(r, "to", 2, &to) != NGX_OK
        || to < from || to - from >= NGX_HTTP_DUKCAPIL_MAX_RANGE)
    {
        return ngx_http_dukcapil_send_invalid(r, "to");
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_booking_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = job->data;
    b->office = office;
    b->day = from;
    b->to = to;
    b->quotas = ngx_pcalloc(r->pool, (to - from + 1)
                                     * NGX_HTTP_DUKCAPIL_SERVICES
                                     * 2 * sizeof(ngx_int_t));
    if (b->quotas == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->booked = b->quotas + (to - from + 1) * NGX_HTTP_DUKCAPIL_SERVICES;

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_availability_reply,
                                    ngx_http_dukcapil_availability_done, job);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->argv[0] = "HGETALL";
    job->argvlen[0] = 7;

    for (d = from; d <= to; d++) {
        key = ngx_pnalloc(r->pool, 80);
        if (key == NULL) {
            ngx_http_dukcapil_redis_cancel(op);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        dk_date_format(d, date);

        job->argv[1] = (char *) key;
        job->argvlen[1] = ngx_snprintf(key, 80, "dk:{%V:%s}:day", &office,
                                       date)
                          - key;

        (void) ngx_http_dukcapil_redis_command(op, 2, job->argv,
                                               job->argvlen);
    }

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable", NULL);
    }

    job->redis = op;
    r->main->count++;

    return NGX_DONE;
}


/* one HGETALL per day: q:<svc> overrides and n:<svc> counts */

static void
ngx_http_dukcapil_availability_reply(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    size_t                          i;
    ngx_int_t                       s, n;
    ngx_str_t                       field;
    redisReply                     *f, *v;
    ngx_http_dukcapil_booking_t    *b;

    b = job->data;

    for (s = 0; s < NGX_HTTP_DUKCAPIL_SERVICES; s++) {
        b->quotas[index * NGX_HTTP_DUKCAPIL_SERVICES + s] = -1;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i + 1 < reply->elements; i += 2) {
        f = reply->element[i];
        v = reply->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || f->len < 3 || f->str[1] != ':'
            || ngx_http_dukcapil_redis_integer(v, &n) != NGX_OK)
        {
            continue;
        }

        field.data = (u_char *) f->str + 2;
        field.len = f->len - 2;

        s = ngx_http_dukcapil_service_index(&field);
        if (s == NGX_ERROR) {
            continue;
        }

        if (f->str[0] == 'q') {
            b->quotas[index * NGX_HTTP_DUKCAPIL_SERVICES + s] = n;

        } else if (f->str[0] == 'n') {
            b->booked[index * NGX_HTTP_DUKCAPIL_SERVICES + s] = n;
        }
    }
}


#define ngx_http_dukcapil_cat(p, s)  ngx_cpymem(p, s, sizeof(s) - 1)


/*
 * The answer is written directly: every value in it is a number, a date, or
 * a code the configuration checked, so there is nothing to escape, and the
 * busiest read of the portal builds no JSON tree; nor is a format parsed for
 * each of its numbers (ngx_sprintf was 4% of a worker).
 */
static void
ngx_http_dukcapil_availability_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                         *body, *p;
    int32_t                         d;
    ngx_int_t                       quota, booked, remaining, open, i;
    ngx_uint_t                      s, first;
    ngx_http_dukcapil_booking_t    *b;
    ngx_http_dukcapil_main_conf_t  *dmcf;
    char                            date[DK_DATE_LEN + 1];

    job->redis = NULL;
    b = job->data;
    dmcf = job->dmcf;

    if (rc != NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    body = ngx_pnalloc(job->request->pool,
                       64 + b->office.len
                       + (b->to - b->day + 1)
                         * (48 + NGX_HTTP_DUKCAPIL_SERVICES
                                 * (96 + 4 * NGX_INT_T_LEN)));
    if (body == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    p = ngx_sprintf(body, "{\"office\":\"%V\",\"days\":[", &b->office);

    for (d = b->day; d <= b->to; d++) {
        dk_date_format(d, date);

        if (d != b->day) {
            *p++ = ',';
        }

        p = ngx_http_dukcapil_cat(p, "{\"date\":\"");
        p = ngx_cpymem(p, date, DK_DATE_LEN);
        p = ngx_http_dukcapil_cat(p, "\",\"services\":[");

        open = ngx_http_dukcapil_day_open(dmcf, d);
        first = 1;

        for (s = 0; s < NGX_HTTP_DUKCAPIL_SERVICES; s++) {
            if (!dmcf->services[s].enabled) {
                continue;
            }

            i = (d - b->day) * NGX_HTTP_DUKCAPIL_SERVICES + s;

            quota = b->quotas[i] >= 0 ? b->quotas[i] : dmcf->services[s].quota;

            if (dmcf->closed_weekdays & (1 << dk_date_weekday(d))
                && b->quotas[i] < 0)
            {
                quota = 0;
            }

            booked = b->booked[i];
            remaining = quota > booked ? quota - booked : 0;

            if (!first) {
                *p++ = ',';
            }

            first = 0;

            p = ngx_http_dukcapil_cat(p, "{\"service\":\"");
            p = ngx_cpymem(p, dmcf->services[s].code.data,
                           dmcf->services[s].code.len);
            p = ngx_http_dukcapil_cat(p, "\",\"quota\":");
            p = ngx_http_dukcapil_decimal(p, quota);
            p = ngx_http_dukcapil_cat(p, ",\"booked\":");
            p = ngx_http_dukcapil_decimal(p, booked);
            p = ngx_http_dukcapil_cat(p, ",\"remaining\":");
            p = ngx_http_dukcapil_decimal(p, remaining);
            p = (open && remaining > 0)
                ? ngx_http_dukcapil_cat(p, ",\"open\":true}")
                : ngx_http_dukcapil_cat(p, ",\"open\":false}");
        }

        *p++ = ']';
        *p++ = '}';
    }

    p = ngx_cpymem(p, "]}\n", 3);

    ngx_http_dukcapil_job_reply_raw(job, NGX_HTTP_OK, body, p - body);
}


/* POST /api/v1/appointments */

ngx_int_t
ngx_http_dukcapil_appointments_handler(ngx_http_request_t *r)
{
    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_dukcapil_read_json(r, ngx_http_dukcapil_book_body);
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

    if (ngx_http_dukcapil_book_parse(r, &body, &booking, &field) != NGX_OK) {
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

    /* b->office is the configuration's: it lives as long as the worker */
    b->name = ngx_http_dukcapil_job_strdup(job, booking.name,
                                           ngx_strlen(booking.name));

    if (b->name == NULL
        || ngx_http_dukcapil_code('A', b->code) != NGX_OK)
    {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    ngx_http_dukcapil_job_start(job, &raw, ngx_http_dukcapil_book_decide);
}


/* validates in the order of the contract; *field names the first at fault */

static ngx_int_t
ngx_http_dukcapil_book_parse(ngx_http_request_t *r,
    ngx_http_dukcapil_body_t *body, ngx_http_dukcapil_booking_t *b,
    const char **field)
{
    const char                     *p;
    ngx_int_t                       s;
    ngx_str_t                       v;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    *field = "nik";
    if (ngx_http_dukcapil_body_string(body, "nik", &v) != NGX_OK
        || dk_nik_valid((char *) v.data, v.len) != 0)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(b->nik, v.data, 16);

    *field = "name";
    if (ngx_http_dukcapil_body_string(body, "name", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    p = (const char *) v.data;
    v.len = dk_trim(&p, v.len);

    if (dk_name_valid(p, v.len) != 0) {
        return NGX_ERROR;
    }

    b->name = ngx_pnalloc(r->pool, v.len + 1);
    if (b->name == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(b->name, (u_char *) p, v.len + 1);

    *field = "phone";
    if (ngx_http_dukcapil_body_string(body, "phone", &v) != NGX_OK
        || dk_phone_normalize((char *) v.data, v.len, b->phone) < 0)
    {
        return NGX_ERROR;
    }

    *field = "service";
    if (ngx_http_dukcapil_body_string(body, "service", &v) != NGX_OK
        || (s = ngx_http_dukcapil_service_index(&v)) == NGX_ERROR
        || !dmcf->services[s].enabled)
    {
        return NGX_ERROR;
    }

    b->service = s;

    *field = "office";
    if (ngx_http_dukcapil_body_string(body, "office", &v) != NGX_OK
        || ngx_http_dukcapil_office(dmcf, &v) == NULL)
    {
        return NGX_ERROR;
    }

    b->office = ngx_http_dukcapil_office(dmcf, &v)->code;

    *field = "date";
    if (ngx_http_dukcapil_body_string(body, "date", &v) != NGX_OK
        || dk_date_parse((char *) v.data, v.len, &b->day) != 0
        || !ngx_http_dukcapil_day_open(dmcf, b->day))
    {
        return NGX_ERROR;
    }

    dk_date_format(b->day, b->date);

    return NGX_OK;
}


static void
ngx_http_dukcapil_day_keys(ngx_http_dukcapil_job_t *job)
{
    ngx_uint_t                    i;
    ngx_http_dukcapil_booking_t  *b;

    b = job->data;

    for (i = 0; i < 4; i++) {
        ngx_snprintf(b->keys[i], sizeof(b->keys[i]), "dk:{%V:%s}:%s%Z",
                     &b->office, b->date,
                     ngx_http_dukcapil_day_key_names[i]);
    }
}


static void
ngx_http_dukcapil_book_decide(ngx_http_dukcapil_job_t *job)
{
    int                            i;
    ngx_http_dukcapil_booking_t   *b;
    ngx_http_dukcapil_redis_op_t  *op;
    ngx_http_dukcapil_main_conf_t *dmcf;

    b = job->data;
    dmcf = job->dmcf;

    ngx_http_dukcapil_day_keys(job);

    ngx_snprintf(b->bar, sizeof(b->bar), "dk:bar:%*s%Z", (size_t) 16, b->nik);
    ngx_snprintf((u_char *) b->now, sizeof(b->now), "%M%Z",
                 (ngx_msec_t) ngx_time() * 1000 + ngx_timeofday()->msec);

    /* the day's keys outlive the day by a week, if reconcile never comes */
    ngx_snprintf((u_char *) b->expire, sizeof(b->expire), "%T%Z",
                 (time_t) (b->day + 8) * 86400 - DK_WIB_OFFSET);

    /* KEYS and ARGV of one booking of lua/book.lua */
    job->argv[0] = "dk:epoch";
    job->argv[1] = (char *) b->bar;
    job->argv[2] = (char *) b->keys[0];
    job->argv[3] = (char *) b->keys[1];
    job->argv[4] = (char *) b->keys[2];
    job->argv[5] = (char *) b->keys[3];
    job->argv[6] = (char *) dmcf->services[b->service].code.data;
    job->argv[7] = (char *) dmcf->services[b->service].quota_arg.data;
    job->argv[8] = (char *) b->nik;
    job->argv[9] = b->phone;
    job->argv[10] = (char *) dmcf->phone_cap_arg.data;
    job->argv[11] = b->code;
    job->argv[12] = b->now;
    job->argv[13] = b->expire;

    for (i = 0; i < 14; i++) {
        job->argvlen[i] = ngx_strlen(job->argv[i]);
    }

    job->argvlen[6] = dmcf->services[b->service].code.len;
    job->argvlen[7] = dmcf->services[b->service].quota_arg.len;
    job->argvlen[8] = 16;
    job->argvlen[10] = dmcf->phone_cap_arg.len;

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_book_decided,
                                    ngx_http_dukcapil_book_decide_done, job);
    if (op == NULL) {
        goto unavailable;
    }

    /* decided with the other bookings of this event loop pass */
    (void) ngx_http_dukcapil_redis_script(op, NGX_HTTP_DUKCAPIL_LUA_BOOK, 6, 14,
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


#define ngx_http_dukcapil_outcome_is(b, s)                                   \
    ((b)->outcome.len == sizeof(s) - 1                                        \
     && ngx_strncmp((b)->outcome.data, s, sizeof(s) - 1) == 0)


static void
ngx_http_dukcapil_book_decided(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                       *p, *last, *sp;
    ngx_http_dukcapil_booking_t  *b;

    b = job->data;

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking script failed: %s", reply->str);
        return;
    }

    /* "<outcome>" or "<outcome> <detail>": see lua/book.lua */

    if (reply->type != REDIS_REPLY_STRING || reply->len == 0
        || reply->len > 64)
    {
        return;
    }

    p = (u_char *) reply->str;
    last = p + reply->len;

    sp = ngx_strlchr(p, last, ' ');
    if (sp == NULL) {
        sp = last;
    }

    b->outcome.data = ngx_http_dukcapil_job_strdup(job, p, sp - p);
    b->outcome.len = b->outcome.data ? (size_t) (sp - p) : 0;

    p = (sp < last) ? sp + 1 : last;

    if (ngx_http_dukcapil_outcome_is(b, "ok")) {
        if (last - p < (ssize_t) sizeof(b->queue)
            && ngx_atoi(p, last - p) > 0)
        {
            ngx_memcpy(b->queue, p, last - p);
            b->queue[last - p] = '\0';

        } else {
            b->outcome.len = 0;
        }

        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "bar") && p < last) {
        b->until.data = ngx_http_dukcapil_job_strdup(job, p, last - p);
        b->until.len = b->until.data ? (size_t) (last - p) : 0;
    }
}


static void
ngx_http_dukcapil_book_decide_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_booking_t  *b;

    job->redis = NULL;
    b = job->data;

    if (rc != NGX_OK || b->outcome.len == 0) {
        /* if the script ran, reconcile gives its admission back */
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_FAILED);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "ok")) {
        job->values[0] = b->code;
        job->values[1] = (char *) b->nik;
        job->values[2] = (char *) b->name;
        job->values[3] = b->phone;
        job->values[4] = (char *) b->office.data;
        job->values[5] = (char *) job->dmcf->services[b->service].code.data;
        job->values[6] = b->date;
        job->values[7] = b->queue;

        ngx_http_dukcapil_job_query(job,
                                    NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_INSERT,
                                    8, ngx_http_dukcapil_book_inserted);

        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "full")) {
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_QUOTA_FULL);
        ngx_http_dukcapil_book_full(job);
        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "dup")) {
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_ALREADY_BOOKED);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT, "already_booked",
                                    NULL);
        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "phone")) {
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_PHONE_LIMIT);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT, "phone_limit",
                                    "phone");
        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "closed")) {
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_CLOSED);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                    "invalid_date", "date");
        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "bar")) {
        json_t  *json;

        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_NO_SHOW_BAR);

        json = ngx_http_dukcapil_error_json("no_show_bar", NULL);
        json_object_set_new(json, "until",
                            json_stringn(b->until.len
                                         ? (char *) b->until.data : "",
                                         b->until.len));
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_FORBIDDEN, json);
        return;
    }

    if (ngx_http_dukcapil_outcome_is(b, "rebuilding")) {
        /* Redis lost its state: admitting now could over-book */
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_REBUILDING);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "state_rebuilding", NULL);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, job->log, 0,
                  "dukcapil: booking script answered \"%V\"", &b->outcome);

    ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_FAILED);
    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/*
 * The day is full: find the first later open day with room for the
 * service, so that the citizen is not left guessing.
 */
static void
ngx_http_dukcapil_book_full(ngx_http_dukcapil_job_t *job)
{
    u_char                         *key;
    int32_t                         d, last;
    ngx_uint_t                      n;
    ngx_http_dukcapil_next_t       *e;
    ngx_http_dukcapil_booking_t    *b;
    ngx_http_dukcapil_redis_op_t   *op;
    ngx_http_dukcapil_main_conf_t  *dmcf;
    char                            date[DK_DATE_LEN + 1];
    const char                     *argv[4];
    size_t                          argvlen[4];

    b = job->data;
    dmcf = job->dmcf;

    e = ngx_http_dukcapil_next_entry(b);

    if (e->office == b->office.data && e->service == b->service
        && e->day == b->day && e->expires > ngx_current_msec)
    {
        ngx_http_dukcapil_book_full_reply(job, e->next);
        return;
    }

    last = ngx_http_dukcapil_today() + dmcf->booking_window;
    n = (last > b->day) ? last - b->day : 0;

    b->quotas = ngx_pcalloc(job->pool, (n + 1) * 2 * sizeof(ngx_int_t));
    if (b->quotas == NULL) {
        goto none;
    }

    b->booked = b->quotas + n + 1;

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_day_reply,
                                    ngx_http_dukcapil_book_full_done, job);
    if (op == NULL) {
        goto none;
    }

    key = ngx_pnalloc(job->pool, 80);
    if (key == NULL) {
        ngx_http_dukcapil_redis_cancel(op);
        goto none;
    }

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = (char *) key;
    argv[2] = (char *) b->keys[0];            /* reused: "q:<svc>" */
    argv[3] = (char *) b->keys[1];            /* reused: "n:<svc>" */
    argvlen[2] = ngx_snprintf(b->keys[0], sizeof(b->keys[0]), "q:%V",
                              &dmcf->services[b->service].code)
                 - b->keys[0];
    argvlen[3] = ngx_snprintf(b->keys[1], sizeof(b->keys[1]), "n:%V",
                              &dmcf->services[b->service].code)
                 - b->keys[1];

    /* hiredis copies the arguments: one key buffer serves every day */
    for (d = b->day + 1; d <= last; d++) {
        dk_date_format(d, date);
        argvlen[1] = ngx_snprintf(key, 80, "dk:{%V:%s}:day", &b->office,
                                  date)
                     - key;
        (void) ngx_http_dukcapil_redis_command(op, 4, argv, argvlen);
    }

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        goto none;
    }

    job->redis = op;
    return;

none:

    b->to = 0;
    ngx_http_dukcapil_book_full_done(job, NGX_ERROR);
}


static void
ngx_http_dukcapil_day_reply(void *data, ngx_uint_t index, redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_int_t                     n;
    ngx_http_dukcapil_booking_t  *b;

    b = job->data;

    b->quotas[index] = -1;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        return;
    }

    if (ngx_http_dukcapil_redis_integer(reply->element[0], &n) == NGX_OK) {
        b->quotas[index] = n;
    }

    if (ngx_http_dukcapil_redis_integer(reply->element[1], &n) == NGX_OK) {
        b->booked[index] = n;
    }
}


static void
ngx_http_dukcapil_book_full_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    int32_t                         d, last, next;
    ngx_int_t                       quota, i;
    ngx_http_dukcapil_next_t       *e;
    ngx_http_dukcapil_booking_t    *b;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    job->redis = NULL;
    b = job->data;
    dmcf = job->dmcf;
    next = -1;

    last = ngx_http_dukcapil_today() + dmcf->booking_window;

    for (d = b->day + 1; rc == NGX_OK && d <= last; d++) {
        if (!ngx_http_dukcapil_day_open(dmcf, d)) {
            continue;
        }

        i = d - b->day - 1;
        quota = b->quotas[i] >= 0 ? b->quotas[i]
                                  : dmcf->services[b->service].quota;

        if (quota > b->booked[i]) {
            next = d;
            break;
        }
    }

    if (rc == NGX_OK) {
        e = ngx_http_dukcapil_next_entry(b);
        e->office = b->office.data;
        e->service = b->service;
        e->day = b->day;
        e->next = next;
        e->expires = ngx_current_msec + NGX_HTTP_DUKCAPIL_NEXT_TTL;
    }

    ngx_http_dukcapil_book_full_reply(job, next);
}


static void
ngx_http_dukcapil_book_full_reply(ngx_http_dukcapil_job_t *job, int32_t next)
{
    u_char  *body, *p;
    char     date[DK_DATE_LEN + 1];

    static u_char  head[] =
        "{\"error\":\"quota_full\","
        "\"message\":\"Kuota layanan pada tanggal tersebut sudah penuh.\","
        "\"next_available\":";

    /* the answer of the minute a day opens: no JSON tree for it */

    body = ngx_pnalloc(job->pool, sizeof(head) + DK_DATE_LEN + 8);
    if (body == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    p = ngx_cpymem(body, head, sizeof(head) - 1);

    if (next >= 0) {
        dk_date_format(next, date);
        p = ngx_sprintf(p, "\"%s\"}\n", date);

    } else {
        p = ngx_cpymem(p, "null}\n", 6);
    }

    ngx_http_dukcapil_job_reply_raw(job, NGX_HTTP_CONFLICT, body, p - body);
}


static ngx_http_dukcapil_next_t *
ngx_http_dukcapil_next_entry(ngx_http_dukcapil_booking_t *b)
{
    ngx_uint_t  h;

    h = ngx_hash_key(b->office.data, b->office.len) + b->service * 31
        + (ngx_uint_t) b->day * 7;

    return &ngx_http_dukcapil_next_cache[h % NGX_HTTP_DUKCAPIL_NEXT_CACHE];
}


static void
ngx_http_dukcapil_book_inserted(void *data, PGresult *res, ngx_uint_t sent)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                        *p;
    ngx_http_dukcapil_booking_t   *b;

    job->pg = NULL;
    b = job->data;

    if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_BOOKED);

        p = ngx_pnalloc(job->pool, sizeof("/api/v1/appointments/") - 1
                                   + DK_CODE_LEN);
        if (p) {
            job->location.data = p;
            job->location.len = ngx_sprintf(p, "/api/v1/appointments/%s",
                                            b->code)
                                - p;
        }

        ngx_http_dukcapil_job_reply(job, NGX_HTTP_CREATED,
            json_pack("{s:s, s:i, s:s%, s:s, s:s, s:s}",
                      "code", b->code,
                      "queue_number", (int) ngx_atoi((u_char *) b->queue,
                                                     ngx_strlen(b->queue)),
                      "office", b->office.data, b->office.len,
                      "service",
                      job->dmcf->services[b->service].code.data,
                      "date", b->date,
                      "status", "booked"));
        return;
    }

    if (res == NULL && sent) {
        /*
         * The INSERT reached PostgreSQL but no answer came: it may have
         * committed.  The citizen hears 503 now; the admission stays until
         * the booking is settled (or, failing that, reconcile settles it).
         */
        ngx_log_error(NGX_LOG_WARN, job->log, 0,
                      "dukcapil: booking %s: outcome unknown, settling",
                      b->code);
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_FAILED);

        job->keep = 1;
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);

        b->backend = sent;
        b->settle.handler = ngx_http_dukcapil_book_settle;
        b->settle.data = job;
        b->settle.log = job->log;
        b->settle.cancelable = 1;
        ngx_add_timer(&b->settle, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
        return;
    }

    ngx_http_dukcapil_release(job, NULL);

    if (res && ngx_http_dukcapil_pg_unique_violation(res,
                                     "appointment_one_active_per_nik_date"))
    {
        /* an active appointment at another office on the same date */
        ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_ALREADY_BOOKED);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT, "already_booked",
                                    NULL);
        return;
    }

    if (res) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking %s refused by postgres: %s",
                      b->code, ngx_http_dukcapil_pg_error(res));
    }

    ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_FAILED);
    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/*
 * Settling a booking whose answer was lost: once the backend that ran the
 * INSERT is gone, the row is there or it never will be.
 */
static void
ngx_http_dukcapil_book_settle(ngx_event_t *ev)
{
    ngx_http_dukcapil_job_t *job = ev->data;

    ngx_http_dukcapil_booking_t  *b;

    b = job->data;

    if (job->remember) {
        /* the 503 is not out yet: Redis is letting the key go first */
        ngx_add_timer(&b->settle, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
        return;
    }

    ngx_snprintf((u_char *) b->pid, sizeof(b->pid), "%ui%Z", b->backend);

    job->values[0] = b->code;
    job->values[1] = b->pid;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_SETTLE,
                                2, ngx_http_dukcapil_book_settled);
}


static void
ngx_http_dukcapil_book_settled(void *data, PGresult *res, ngx_uint_t sent)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_booking_t  *b;

    job->pg = NULL;
    b = job->data;

    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
        && PQgetvalue(res, 0, 1)[0] == 'f')
    {
        if (PQgetvalue(res, 0, 0)[0] == 't') {
            ngx_log_error(NGX_LOG_WARN, job->log, 0,
                          "dukcapil: booking %s settled: committed",
                          b->code);

        } else {
            ngx_log_error(NGX_LOG_WARN, job->log, 0,
                          "dukcapil: booking %s settled: not committed, "
                          "slot given back", b->code);
            ngx_http_dukcapil_release(job, NULL);
        }

        ngx_http_dukcapil_job_free(job);
        return;
    }

    if (++b->attempts >= NGX_HTTP_DUKCAPIL_SETTLE_TRIES || ngx_exiting) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: booking %s not settled, left to reconcile",
                      b->code);
        ngx_http_dukcapil_job_free(job);
        return;
    }

    ngx_add_timer(&b->settle, NGX_HTTP_DUKCAPIL_SETTLE_EVERY);
}


/*
 * Gives the admission back.  With no done handler it is fire and forget
 * (reconcile backs it up); a cancellation waits for it, so that the slot
 * is free before the citizen hears so.
 */
static void
ngx_http_dukcapil_release(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_redis_done_pt done)
{
    const char                    *argv[5];
    size_t                         argvlen[5];
    ngx_uint_t                     i;
    ngx_http_dukcapil_booking_t   *b;
    ngx_http_dukcapil_redis_op_t  *op;

    b = job->data;

    ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_RELEASED);

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_no_op,
                                    done ? done
                                         : ngx_http_dukcapil_release_done,
                                    done ? job : NULL);
    if (op == NULL) {
        if (done) {
            done(job, NGX_ERROR);
        }
        return;
    }

    /* KEYS and ARGV of lua/release.lua */
    for (i = 0; i < 4; i++) {
        argv[i] = (char *) b->keys[i];
    }
    argv[4] = b->code;

    for (i = 0; i < 5; i++) {
        argvlen[i] = ngx_strlen(argv[i]);
    }

    (void) ngx_http_dukcapil_redis_script(op, NGX_HTTP_DUKCAPIL_LUA_RELEASE,
                                          4, 5, argv, argvlen);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        if (done) {
            done(job, NGX_ERROR);
        }
        return;
    }

    if (done) {
        job->redis = op;
    }
}


static void
ngx_http_dukcapil_cancel_released(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_booking_t  *b;

    job->redis = NULL;
    b = job->data;

    if (rc != NGX_OK) {
        /* cancelled all the same: reconcile frees the slot */
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: cancellation %s: release failed, "
                      "left to reconcile", b->code);
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s, s:s}", "code", b->code,
                                          "status", "cancelled"));
}


static void
ngx_http_dukcapil_release_done(void *data, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: release failed, left to reconcile");
    }
}


static void
ngx_http_dukcapil_no_op(void *data, ngx_uint_t index, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: redis answered \"%s\"", reply->str);
    }
}


/* GET and DELETE /api/v1/appointments/{code}, with X-NIK */

ngx_int_t
ngx_http_dukcapil_appointment_handler(ngx_http_request_t *r)
{
    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_dukcapil_appointment_get(r);
    }

    if (r->method == NGX_HTTP_DELETE) {
        return ngx_http_dukcapil_appointment_cancel(r);
    }

    return NGX_HTTP_NOT_ALLOWED;
}


/* *jobp is NULL when the answer has been given already: rc is its own */

static ngx_int_t
ngx_http_dukcapil_appointment_lookup(ngx_http_request_t *r, ngx_uint_t write,
    ngx_http_dukcapil_job_t **jobp)
{
    ngx_int_t                     rc;
    ngx_http_dukcapil_job_t      *job;
    ngx_http_dukcapil_booking_t  *b;
    char                          code[DK_CODE_LEN + 1];
    u_char                        nik[16];

    *jobp = NULL;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_dukcapil_header_nik(r, nik) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "invalid_nik", "X-NIK");
    }

    /* a malformed code is as unknown as a wrong one */
    if (ngx_http_dukcapil_uri_code(r, 0, 'A', code) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found", NULL);
    }

    job = ngx_http_dukcapil_job_create(r, write,
                                       sizeof(ngx_http_dukcapil_booking_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = job->data;
    ngx_memcpy(b->code, code, sizeof(code));
    ngx_memcpy(b->nik, nik, 16);

    job->values[0] = b->code;
    job->values[1] = (char *) b->nik;

    *jobp = job;

    return NGX_OK;
}


static ngx_int_t
ngx_http_dukcapil_appointment_get(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_dukcapil_job_t  *job;

    rc = ngx_http_dukcapil_appointment_lookup(r, 0, &job);
    if (job == NULL) {
        return rc;
    }

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_GET, 2,
                                ngx_http_dukcapil_appointment_got);

    return NGX_DONE;
}


static void
ngx_http_dukcapil_appointment_got(void *data, PGresult *res, ngx_uint_t sent)
{
    ngx_http_dukcapil_job_t *job = data;

    job->pg = NULL;

    if (ngx_http_dukcapil_job_row(job, res) != NGX_OK) {
        return;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
        json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}",
                  "code", PQgetvalue(res, 0, 0),
                  "status", PQgetvalue(res, 0, 1),
                  "queue_number", atoi(PQgetvalue(res, 0, 2)),
                  "office", PQgetvalue(res, 0, 3),
                  "service", PQgetvalue(res, 0, 4),
                  "date", PQgetvalue(res, 0, 5)));
}


static ngx_int_t
ngx_http_dukcapil_appointment_cancel(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_dukcapil_job_t      *job;
    ngx_http_dukcapil_booking_t  *b;

    rc = ngx_http_dukcapil_appointment_lookup(r, 1, &job);
    if (job == NULL) {
        return rc;
    }

    b = job->data;
    dk_date_format(ngx_http_dukcapil_today(), b->today);
    job->values[2] = b->today;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_CANCEL,
                                3, ngx_http_dukcapil_appointment_cancelled);

    return NGX_DONE;
}


static void
ngx_http_dukcapil_appointment_cancelled(void *data, PGresult *res,
    ngx_uint_t sent)
{
    ngx_http_dukcapil_job_t *job = data;

    char                          *status;
    ngx_str_t                      service;
    ngx_http_dukcapil_booking_t   *b;

    job->pg = NULL;
    b = job->data;

    if (ngx_http_dukcapil_job_row(job, res) != NGX_OK) {
        return;
    }

    status = PQgetvalue(res, 0, 0);

    if (PQgetvalue(res, 0, 1)[0] == 't') {
        /* committed: now the slot goes back at once */
        b->office.len = PQgetlength(res, 0, 2);
        b->office.data = ngx_http_dukcapil_job_strdup(job,
                                     (u_char *) PQgetvalue(res, 0, 2),
                                     b->office.len);
        service.data = (u_char *) PQgetvalue(res, 0, 3);
        service.len = PQgetlength(res, 0, 3);
        b->service = ngx_http_dukcapil_service_index(&service);
        ngx_cpystrn((u_char *) b->date, (u_char *) PQgetvalue(res, 0, 4),
                    sizeof(b->date));

        if (b->office.data) {
            ngx_http_dukcapil_day_keys(job);
            ngx_http_dukcapil_release(job, ngx_http_dukcapil_cancel_released);
            return;
        }

        status = "cancelled";

    } else if (ngx_strcmp(status, "checked_in") == 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT, "checked_in",
                                    NULL);
        return;

    } else if (ngx_strcmp(status, "cancelled") != 0) {
        /* a no-show, or a day already past */
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT,
                                    "appointment_closed", NULL);
        return;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s, s:s}", "code", b->code,
                                          "status", status));
}
