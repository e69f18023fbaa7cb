
/*
 * The minute a day opens, nearly every booking of it answers quota_full:
 * the day offered instead is remembered for a second per worker, so that
 * a full day costs one Redis script and nothing more.  The office's code
 * is the configuration's, which lives as long as the worker.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_next_available.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_util.h"
#include "keys.h"
#include "wib.h"


#define NGX_HTTP_DUKCAPIL_NEXT_CACHE  64
#define NGX_HTTP_DUKCAPIL_NEXT_TTL    1000


typedef struct {
    u_char                       *office;
    ngx_uint_t                    service;
    int32_t                       day;
    int32_t                       next;       /* -1: none */
    ngx_msec_t                    expires;
} ngx_http_dukcapil_next_entry_t;


/* a lookup: one HMGET of each later day of the window, calendar too */
typedef struct {
    ngx_http_dukcapil_job_t      *job;
    ngx_str_t                     office;
    ngx_uint_t                    service;
    int32_t                       day;
    int32_t                       last;
    ngx_int_t                    *overrides;
    ngx_int_t                    *booked;
    dk_calendar                  *calendar;
    ngx_http_dukcapil_next_pt     done;
} ngx_http_dukcapil_next_t;


static ngx_http_dukcapil_next_entry_t *ngx_http_dukcapil_next_entry(
    ngx_str_t *office, ngx_uint_t service, int32_t day);
static void ngx_http_dukcapil_next_day(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_next_done(void *data, ngx_int_t rc);


static ngx_http_dukcapil_next_entry_t
    ngx_http_dukcapil_next_cache[NGX_HTTP_DUKCAPIL_NEXT_CACHE];


void
ngx_http_dukcapil_next_available(ngx_http_dukcapil_job_t *job,
    ngx_str_t *office, ngx_uint_t service, int32_t day,
    ngx_http_dukcapil_next_pt done)
{
    int                              len;
    int32_t                          d;
    ngx_uint_t                       n;
    ngx_http_dukcapil_next_t        *nx;
    ngx_http_dukcapil_next_entry_t  *e;
    ngx_http_dukcapil_redis_op_t    *op;
    ngx_http_dukcapil_main_conf_t   *dmcf;
    const char                      *argv[6];
    size_t                           argvlen[6];
    char                             date[DK_DATE_LEN + 1];
    char                             key[DK_KEY_MAX];
    char                             quota[DK_KEY_MAX], booked[DK_KEY_MAX];

    dmcf = job->dmcf;

    e = ngx_http_dukcapil_next_entry(office, service, day);

    if (e->office == office->data && e->service == service && e->day == day
        && e->expires > ngx_current_msec)
    {
        done(job, e->next);
        return;
    }

    nx = ngx_pcalloc(job->pool, sizeof(ngx_http_dukcapil_next_t));
    if (nx == NULL) {
        goto none;
    }

    nx->job = job;
    nx->office = *office;
    nx->service = service;
    nx->day = day;
    nx->done = done;
    nx->last = ngx_http_dukcapil_today() + dmcf->booking_window;

    n = (nx->last > day) ? nx->last - day : 0;

    nx->overrides = ngx_pcalloc(job->pool, (n + 1) * 2 * sizeof(ngx_int_t));
    if (nx->overrides == NULL) {
        goto none;
    }

    nx->booked = nx->overrides + n + 1;

    nx->calendar = ngx_pcalloc(job->pool, (n + 1) * sizeof(dk_calendar));
    if (nx->calendar == NULL) {
        goto none;
    }

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_next_day,
                                    ngx_http_dukcapil_next_done, nx);
    if (op == NULL) {
        goto none;
    }

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = key;
    argv[2] = quota;
    argv[3] = booked;
    argvlen[2] = dk_key_field(quota, sizeof(quota), DK_FIELD_QUOTA,
                              (char *) dmcf->services[service].code.data,
                              dmcf->services[service].code.len);
    argvlen[3] = dk_key_field(booked, sizeof(booked), DK_FIELD_BOOKED,
                              (char *) dmcf->services[service].code.data,
                              dmcf->services[service].code.len);
    argv[4] = DK_FIELD_CLOSED;
    argvlen[4] = sizeof(DK_FIELD_CLOSED) - 1;
    argv[5] = DK_FIELD_OPENED;
    argvlen[5] = sizeof(DK_FIELD_OPENED) - 1;

    /* hiredis copies the arguments: one key buffer serves every day */
    for (d = day + 1; d <= nx->last; d++) {
        dk_date_format(d, date);

        len = dk_key_day(key, sizeof(key), (char *) office->data, office->len,
                         date, DK_DAY_COUNTS);
        if (len < 0) {
            ngx_http_dukcapil_redis_cancel(op);
            goto none;
        }

        argvlen[1] = len;

        (void) ngx_http_dukcapil_redis_command(op, 6, argv, argvlen);
    }

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        goto none;
    }

    job->redis = op;
    return;

none:

    done(job, -1);
}


static ngx_http_dukcapil_next_entry_t *
ngx_http_dukcapil_next_entry(ngx_str_t *office, ngx_uint_t service,
    int32_t day)
{
    ngx_uint_t  h;

    h = ngx_hash_key(office->data, office->len) + service * 31
        + (ngx_uint_t) day * 7;

    return &ngx_http_dukcapil_next_cache[h % NGX_HTTP_DUKCAPIL_NEXT_CACHE];
}


static void
ngx_http_dukcapil_next_day(void *data, ngx_uint_t index, redisReply *reply)
{
    ngx_http_dukcapil_next_t *nx = data;

    ngx_int_t  n;

    nx->overrides[index] = -1;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
        return;
    }

    if (ngx_http_dukcapil_redis_integer(reply->element[0], &n) == NGX_OK) {
        nx->overrides[index] = n;
    }

    if (ngx_http_dukcapil_redis_integer(reply->element[1], &n) == NGX_OK) {
        nx->booked[index] = n;
    }

    if (reply->element[2]->type == REDIS_REPLY_STRING) {
        nx->calendar[index] = DK_CALENDAR_CLOSED;

    } else if (reply->element[3]->type == REDIS_REPLY_STRING) {
        nx->calendar[index] = DK_CALENDAR_OPENED;
    }
}


static void
ngx_http_dukcapil_next_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_next_t *nx = data;

    int32_t                          d, next;
    ngx_int_t                        i;
    ngx_http_dukcapil_job_t         *job;
    ngx_http_dukcapil_next_entry_t  *e;

    job = nx->job;
    job->redis = NULL;
    next = -1;

    for (d = nx->day + 1; rc == NGX_OK && d <= nx->last; d++) {
        i = d - nx->day - 1;

        if (!ngx_http_dukcapil_day_open(job->dmcf, d, nx->calendar[i])) {
            continue;
        }

        if (ngx_http_dukcapil_quota(job->dmcf, nx->service, d,
                                    nx->overrides[i], nx->calendar[i])
            > nx->booked[i])
        {
            next = d;
            break;
        }
    }

    if (rc == NGX_OK) {
        e = ngx_http_dukcapil_next_entry(&nx->office, nx->service, nx->day);
        e->office = nx->office.data;
        e->service = nx->service;
        e->day = nx->day;
        e->next = next;
        e->expires = ngx_current_msec + NGX_HTTP_DUKCAPIL_NEXT_TTL;
    }

    nx->done(job, next);
}


/*
 * 409 quota_full with the next open day: the answer of the minute a day
 * opens, written without a JSON tree.
 */
void
ngx_http_dukcapil_quota_full(ngx_http_dukcapil_job_t *job, int32_t next)
{
    u_char  *body, *p;

    static ngx_str_t  head;

    if (head.len == 0) {
        head.data = (u_char *) ngx_http_dukcapil_error_message("quota_full");
        head.len = ngx_strlen(head.data);
    }

    body = ngx_pnalloc(job->pool, head.len + DK_DATE_LEN + 80);
    if (body == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    p = ngx_http_dukcapil_cat(body, "{\"error\":\"quota_full\",\"message\":\"");
    p = ngx_cpymem(p, head.data, head.len);
    p = ngx_http_dukcapil_cat(p, "\",\"next_available\":");

    if (next >= 0) {
        *p++ = '"';
        dk_date_format(next, (char *) p);
        p = ngx_http_dukcapil_cat(p + DK_DATE_LEN, "\"}\n");

    } else {
        p = ngx_http_dukcapil_cat(p, "null}\n");
    }

    ngx_http_dukcapil_job_reply_raw(job, NGX_HTTP_CONFLICT, body, p - body);
}
