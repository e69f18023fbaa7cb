
/*
 * GET /api/v1/availability?office=mpp&from=D&to=D: for every day, whether
 * it takes bookings (and why not, when the office closed it), and for every
 * service the quota, what is booked and what is left.  One HGETALL of each
 * day's hash, pipelined: its counts and its calendar.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_util.h"
#include "keys.h"
#include "wib.h"


typedef struct {
    ngx_str_t                     office;
    int32_t                       from;
    int32_t                       to;
    /* per day and service: the override (-1: none) and the count */
    ngx_int_t                    *overrides;
    ngx_int_t                    *booked;
    /* per day: its calendar, and a closure's reason as JSON escapes it */
    dk_calendar                  *calendar;
    ngx_str_t                    *reasons;
    size_t                        reasons_len;
} ngx_http_dukcapil_availability_t;


static void ngx_http_dukcapil_availability_day(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_availability_calendar(
    ngx_http_dukcapil_job_t *job, ngx_uint_t index, redisReply *f,
    redisReply *v);
static void ngx_http_dukcapil_availability_done(void *data, ngx_int_t rc);


ngx_int_t
ngx_http_dukcapil_availability_handler(ngx_http_request_t *r)
{
    int32_t                            from, to, d;
    ngx_int_t                          rc;
    ngx_str_t                          office;
    ngx_uint_t                         days;
    ngx_http_dukcapil_job_t           *job;
    ngx_http_dukcapil_redis_op_t      *op;
    ngx_http_dukcapil_main_conf_t     *dmcf;
    ngx_http_dukcapil_availability_t  *av;
    char                               date[DK_DATE_LEN + 1];
    char                               key[DK_KEY_MAX];

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
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
                                 sizeof(ngx_http_dukcapil_availability_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    days = to - from + 1;

    av = job->data;
    av->office = ngx_http_dukcapil_office(dmcf, &office)->code;
    av->from = from;
    av->to = to;
    av->overrides = ngx_pcalloc(r->pool, days * NGX_HTTP_DUKCAPIL_SERVICES
                                         * 2 * sizeof(ngx_int_t));
    if (av->overrides == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    av->booked = av->overrides + days * NGX_HTTP_DUKCAPIL_SERVICES;

    av->calendar = ngx_pcalloc(r->pool, days * sizeof(dk_calendar));
    av->reasons = ngx_pcalloc(r->pool, days * sizeof(ngx_str_t));
    if (av->calendar == NULL || av->reasons == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_availability_day,
                                    ngx_http_dukcapil_availability_done, job);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* hiredis copies the arguments: one key buffer serves every day */
    job->argv[0] = "HGETALL";
    job->argvlen[0] = 7;
    job->argv[1] = key;

    for (d = from; d <= to; d++) {
        dk_date_format(d, date);

        rc = dk_key_day(key, sizeof(key), (char *) av->office.data,
                        av->office.len, date, DK_DAY_COUNTS);
        if (rc < 0) {
            ngx_http_dukcapil_redis_cancel(op);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        job->argvlen[1] = rc;

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


/* one day's HGETALL: q:<svc> overrides, n:<svc> counts, the calendar */

static void
ngx_http_dukcapil_availability_day(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    size_t                             i;
    ngx_int_t                          s, n;
    ngx_str_t                          service;
    redisReply                        *f, *v;
    ngx_http_dukcapil_availability_t  *av;

    av = job->data;

    for (s = 0; s < NGX_HTTP_DUKCAPIL_SERVICES; s++) {
        av->overrides[index * NGX_HTTP_DUKCAPIL_SERVICES + s] = -1;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i + 1 < reply->elements; i += 2) {
        f = reply->element[i];
        v = reply->element[i + 1];

        if (f->type == REDIS_REPLY_STRING && f->len > 2 && f->str[1] != ':') {
            ngx_http_dukcapil_availability_calendar(job, index, f, v);
            continue;
        }

        if (f->type != REDIS_REPLY_STRING || f->len < 3 || f->str[1] != ':'
            || ngx_http_dukcapil_redis_integer(v, &n) != NGX_OK)
        {
            continue;
        }

        service.data = (u_char *) f->str + 2;
        service.len = f->len - 2;

        s = ngx_http_dukcapil_service_index(&service);
        if (s == NGX_ERROR) {
            continue;
        }

        if (f->str[0] == DK_FIELD_QUOTA) {
            av->overrides[index * NGX_HTTP_DUKCAPIL_SERVICES + s] = n;

        } else if (f->str[0] == DK_FIELD_BOOKED) {
            av->booked[index * NGX_HTTP_DUKCAPIL_SERVICES + s] = n;
        }
    }
}


/* a field of the day itself: its closure's reason, or its opening */

static void
ngx_http_dukcapil_availability_calendar(ngx_http_dukcapil_job_t *job,
    ngx_uint_t index, redisReply *f, redisReply *v)
{
    size_t                             len;
    ngx_str_t                         *reason;
    ngx_http_dukcapil_availability_t  *av;

    av = job->data;

    if (f->len == sizeof(DK_FIELD_OPENED) - 1
        && ngx_strncmp(f->str, DK_FIELD_OPENED, f->len) == 0)
    {
        if (av->calendar[index] != DK_CALENDAR_CLOSED) {
            av->calendar[index] = DK_CALENDAR_OPENED;
        }

        return;
    }

    if (f->len != sizeof(DK_FIELD_CLOSED) - 1
        || ngx_strncmp(f->str, DK_FIELD_CLOSED, f->len) != 0
        || v->type != REDIS_REPLY_STRING)
    {
        return;
    }

    av->calendar[index] = DK_CALENDAR_CLOSED;

    /* the office's own words: JSON must escape them */
    len = v->len + ngx_escape_json(NULL, (u_char *) v->str, v->len);

    reason = &av->reasons[index];
    reason->data = ngx_pnalloc(job->request->pool, len);
    if (reason->data == NULL) {
        return;
    }

    (void) ngx_escape_json(reason->data, (u_char *) v->str, v->len);
    reason->len = len;
    av->reasons_len += len;
}


/*
 * The answer is written directly: every value in it is a number, a date, a
 * code the configuration checked, or a reason escaped as it was read, and
 * the busiest read of the portal builds no JSON tree; nor is a format
 * parsed for each of its numbers.
 */
static void
ngx_http_dukcapil_availability_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                            *body, *p;
    int32_t                            d;
    ngx_int_t                          quota, booked, remaining, open, i;
    ngx_str_t                         *reason;
    ngx_uint_t                         s, first;
    dk_calendar                        calendar;
    ngx_http_dukcapil_main_conf_t     *dmcf;
    ngx_http_dukcapil_availability_t  *av;
    char                               date[DK_DATE_LEN + 1];

    job->redis = NULL;
    av = job->data;
    dmcf = job->dmcf;

    if (rc != NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    body = ngx_pnalloc(job->request->pool,
                       64 + av->office.len + av->reasons_len
                       + (av->to - av->from + 1)
                         * (96 + NGX_HTTP_DUKCAPIL_SERVICES
                                 * (96 + 4 * NGX_INT_T_LEN)));
    if (body == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    p = ngx_http_dukcapil_cat(body, "{\"office\":\"");
    p = ngx_cpymem(p, av->office.data, av->office.len);
    p = ngx_http_dukcapil_cat(p, "\",\"days\":[");

    for (d = av->from; d <= av->to; d++) {
        dk_date_format(d, date);

        if (d != av->from) {
            *p++ = ',';
        }

        calendar = av->calendar[d - av->from];
        reason = &av->reasons[d - av->from];
        open = ngx_http_dukcapil_day_open(dmcf, d, calendar);

        p = ngx_http_dukcapil_cat(p, "{\"date\":\"");
        p = ngx_cpymem(p, date, DK_DATE_LEN);
        p = open ? ngx_http_dukcapil_cat(p, "\",\"open\":true")
                 : ngx_http_dukcapil_cat(p, "\",\"open\":false");

        if (calendar == DK_CALENDAR_CLOSED) {
            p = ngx_http_dukcapil_cat(p, ",\"reason\":\"");

            if (reason->len) {
                p = ngx_cpymem(p, reason->data, reason->len);
            }

            *p++ = '"';
        }

        p = ngx_http_dukcapil_cat(p, ",\"services\":[");
        first = 1;

        for (s = 0; s < NGX_HTTP_DUKCAPIL_SERVICES; s++) {
            if (!dmcf->services[s].enabled) {
                continue;
            }

            i = (d - av->from) * NGX_HTTP_DUKCAPIL_SERVICES + s;

            quota = ngx_http_dukcapil_quota(dmcf, s, d, av->overrides[i],
                                            calendar);
            booked = av->booked[i];
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
