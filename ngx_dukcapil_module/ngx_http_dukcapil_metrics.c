
/*
 * Counters shared by all workers: requests per endpoint and status class
 * (counted in the log phase, so every answer counts, whoever produced it),
 * the outcome of every booking decision, and the calls of the module's
 * Redis scripts (bookings over book calls: how many one call decides).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_job.h"


#define NGX_HTTP_DUKCAPIL_CLASSES    5       /* 1xx .. 5xx */


typedef struct {
    ngx_atomic_t  requests[NGX_HTTP_DUKCAPIL_ENDPOINTS]
                          [NGX_HTTP_DUKCAPIL_CLASSES];
    ngx_atomic_t  bookings[NGX_HTTP_DUKCAPIL_OUTCOMES];
    ngx_atomic_t  script_calls[NGX_HTTP_DUKCAPIL_SCRIPTS];
    ngx_atomic_t  settled[NGX_HTTP_DUKCAPIL_SETTLED];
    ngx_atomic_t  otp[NGX_HTTP_DUKCAPIL_OTP_OUTCOMES];
} ngx_http_dukcapil_counters_t;


/* what INFO memory said; -1: not said */
typedef struct {
    off_t         used;
    off_t         max;
    ngx_uint_t    known;
} ngx_http_dukcapil_memory_t;


static ngx_int_t ngx_http_dukcapil_metrics_zone(ngx_shm_zone_t *zone,
    void *data);
static void ngx_http_dukcapil_metrics_memory(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_metrics_render(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_dukcapil_metrics_log(ngx_http_request_t *r);


static ngx_http_dukcapil_counters_t  *ngx_http_dukcapil_counters;

static const char  *ngx_http_dukcapil_outcome_names[] = {
    [NGX_HTTP_DUKCAPIL_BOOKED] = "booked",
    [NGX_HTTP_DUKCAPIL_QUOTA_FULL] = "quota_full",
    [NGX_HTTP_DUKCAPIL_ALREADY_BOOKED] = "already_booked",
    [NGX_HTTP_DUKCAPIL_PHONE_LIMIT] = "phone_limit",
    [NGX_HTTP_DUKCAPIL_NO_SHOW_BAR] = "no_show_bar",
    [NGX_HTTP_DUKCAPIL_CLOSED] = "closed",
    [NGX_HTTP_DUKCAPIL_REBUILDING] = "state_rebuilding",
    [NGX_HTTP_DUKCAPIL_RELEASED] = "released",
    [NGX_HTTP_DUKCAPIL_FAILED] = "failed"
};

static const char  *ngx_http_dukcapil_settled_names[] = {
    [NGX_HTTP_DUKCAPIL_SETTLED_COMMITTED] = "committed",
    [NGX_HTTP_DUKCAPIL_SETTLED_RELEASED] = "released",
    [NGX_HTTP_DUKCAPIL_SETTLED_LEFT] = "left_to_reconcile"
};

static const char  *ngx_http_dukcapil_otp_names[] = {
    [NGX_HTTP_DUKCAPIL_OTP_SENT] = "sent",
    [NGX_HTTP_DUKCAPIL_OTP_TOO_MANY] = "too_many_codes",
    [NGX_HTTP_DUKCAPIL_OTP_BUDGET_EXHAUSTED] = "budget_exhausted"
};

static const char  *ngx_http_dukcapil_script_names[] = {
    [NGX_HTTP_DUKCAPIL_SCRIPT_BOOK] = "book",
    [NGX_HTTP_DUKCAPIL_SCRIPT_RELEASE] = "release",
    [NGX_HTTP_DUKCAPIL_SCRIPT_CALENDAR] = "calendar",
    [NGX_HTTP_DUKCAPIL_SCRIPT_OTP_SEND] = "otp_send",
    [NGX_HTTP_DUKCAPIL_SCRIPT_OTP_CONFIRM] = "otp_confirm"
};


/* a counter per value of one label, written as one family of /metrics */
typedef struct {
    const char          *name;
    const char          *help;
    const char          *label;
    const char         **values;
    ngx_uint_t           n;
    size_t               offset;     /* of its counters in the zone */
} ngx_http_dukcapil_family_t;


static ngx_http_dukcapil_family_t  ngx_http_dukcapil_families[] = {

    { "dukcapil_bookings_total", "Booking decisions by outcome.",
      "outcome", ngx_http_dukcapil_outcome_names, NGX_HTTP_DUKCAPIL_OUTCOMES,
      offsetof(ngx_http_dukcapil_counters_t, bookings) },

    { "dukcapil_redis_script_calls_total",
      "Calls of the module's Redis scripts; one book call decides the "
      "bookings of one event-loop pass.",
      "script", ngx_http_dukcapil_script_names, NGX_HTTP_DUKCAPIL_SCRIPTS,
      offsetof(ngx_http_dukcapil_counters_t, script_calls) },

    { "dukcapil_bookings_settled_total",
      "Bookings whose outcome was unknown (answered 503), by how they were "
      "settled.",
      "as", ngx_http_dukcapil_settled_names, NGX_HTTP_DUKCAPIL_SETTLED,
      offsetof(ngx_http_dukcapil_counters_t, settled) },

    { "dukcapil_otp_codes_total",
      "Requests for a verification code, by what became of them.",
      "outcome", ngx_http_dukcapil_otp_names, NGX_HTTP_DUKCAPIL_OTP_OUTCOMES,
      offsetof(ngx_http_dukcapil_counters_t, otp) },
};


/* endpoints: what /metrics counts answers of, ending in a null name */

ngx_int_t
ngx_http_dukcapil_metrics_init(ngx_conf_t *cf,
    ngx_http_dukcapil_endpoint_t *endpoints)
{
    ngx_str_t                       name = ngx_string("dukcapil_metrics");
    ngx_shm_zone_t                 *zone;
    ngx_http_handler_pt            *h;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dukcapil_module);

    zone = ngx_shared_memory_add(cf, &name, 2 * ngx_pagesize,
                                 &ngx_http_dukcapil_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_dukcapil_metrics_zone;
    dmcf->metrics_zone = zone;
    dmcf->endpoints = endpoints;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_dukcapil_metrics_log;

    return NGX_OK;
}


static ngx_int_t
ngx_http_dukcapil_metrics_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload keeps the counters */
        zone->data = data;
        ngx_http_dukcapil_counters = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_http_dukcapil_counters = ngx_slab_calloc(shpool,
                                        sizeof(ngx_http_dukcapil_counters_t));
    if (ngx_http_dukcapil_counters == NULL) {
        return NGX_ERROR;
    }

    zone->data = ngx_http_dukcapil_counters;

    return NGX_OK;
}


static ngx_int_t
ngx_http_dukcapil_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                     status;
    ngx_http_dukcapil_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_dukcapil_module);

    if (dlcf->metric == 0 || dlcf->metric >= NGX_HTTP_DUKCAPIL_ENDPOINTS
        || ngx_http_dukcapil_counters == NULL)
    {
        return NGX_OK;
    }

    status = r->headers_out.status;

    if (status < 100 || status > 599) {
        status = 500;
    }

    (void) ngx_atomic_fetch_add(
               &ngx_http_dukcapil_counters->requests[dlcf->metric]
                                                    [status / 100 - 1], 1);

    return NGX_OK;
}


void
ngx_http_dukcapil_metrics_booking(ngx_uint_t outcome)
{
    if (ngx_http_dukcapil_counters && outcome < NGX_HTTP_DUKCAPIL_OUTCOMES) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_dukcapil_counters->bookings[outcome], 1);
    }
}


void
ngx_http_dukcapil_metrics_script_call(ngx_uint_t script)
{
    if (ngx_http_dukcapil_counters && script < NGX_HTTP_DUKCAPIL_SCRIPTS) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_dukcapil_counters->script_calls[script], 1);
    }
}


void
ngx_http_dukcapil_metrics_settled(ngx_uint_t how)
{
    if (ngx_http_dukcapil_counters && how < NGX_HTTP_DUKCAPIL_SETTLED) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_dukcapil_counters->settled[how], 1);
    }
}


void
ngx_http_dukcapil_metrics_otp(ngx_uint_t outcome)
{
    if (ngx_http_dukcapil_counters
        && outcome < NGX_HTTP_DUKCAPIL_OTP_OUTCOMES)
    {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_dukcapil_counters->otp[outcome], 1);
    }
}


/*
 * GET /metrics: the counters, and Redis's memory against its limit, asked
 * for at each scrape (INFO memory): with maxmemory and noeviction, a Redis
 * that is full refuses every booking.
 */
ngx_int_t
ngx_http_dukcapil_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    const char                    *argv[2];
    ngx_http_dukcapil_job_t       *job;
    ngx_http_dukcapil_memory_t    *mem;
    ngx_http_dukcapil_redis_op_t  *op;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_memory_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mem = job->data;
    mem->used = -1;
    mem->max = -1;

    r->main->count++;

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_metrics_memory,
                                    ngx_http_dukcapil_metrics_render, job);
    if (op == NULL) {
        ngx_http_dukcapil_metrics_render(job, NGX_ERROR);
        return NGX_DONE;
    }

    argv[0] = "INFO";
    argv[1] = "memory";
    (void) ngx_http_dukcapil_redis_command(op, 2, argv, NULL);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        ngx_http_dukcapil_metrics_render(job, NGX_ERROR);
        return NGX_DONE;
    }

    job->redis = op;

    return NGX_DONE;
}


/* used_memory and maxmemory of INFO memory's "name:value\r\n" lines */

static void
ngx_http_dukcapil_metrics_memory(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                      *p, *last, *v;
    off_t                       *field;
    ngx_http_dukcapil_memory_t  *mem;

    mem = job->data;

    if (reply->type != REDIS_REPLY_STRING) {
        return;
    }

    p = (u_char *) reply->str;
    last = p + reply->len;

    while (p < last) {
        if (last - p > 12 && ngx_strncmp(p, "used_memory:", 12) == 0) {
            field = &mem->used;
            v = p + 12;

        } else if (last - p > 10 && ngx_strncmp(p, "maxmemory:", 10) == 0) {
            field = &mem->max;
            v = p + 10;

        } else {
            field = NULL;
            v = p;
        }

        for (p = v; p < last && *p >= '0' && *p <= '9'; p++) {
            /* void */
        }

        if (field && p > v) {
            *field = ngx_atoof(v, p - v);
        }

        p = ngx_strlchr(p, last, '\n');
        if (p == NULL) {
            break;
        }

        p++;
    }

    mem->known = (mem->used >= 0 && mem->max >= 0);
}


static void
ngx_http_dukcapil_metrics_render(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                         *p, *last;
    size_t                          size;
    ngx_uint_t                      e, c;
    ngx_atomic_t                   *counter;
    ngx_http_dukcapil_memory_t     *mem;
    ngx_http_dukcapil_family_t     *f;
    ngx_http_dukcapil_endpoint_t   *endpoint;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    static ngx_str_t  type = ngx_string("text/plain; version=0.0.4");

    job->redis = NULL;
    mem = job->data;

    size = 512 + NGX_HTTP_DUKCAPIL_ENDPOINTS * NGX_HTTP_DUKCAPIL_CLASSES * 96
           + 768;

    for (f = ngx_http_dukcapil_families;
         f < ngx_http_dukcapil_families
             + sizeof(ngx_http_dukcapil_families)
               / sizeof(ngx_http_dukcapil_family_t);
         f++)
    {
        size += 2 * (ngx_strlen(f->name) + 16) + ngx_strlen(f->help)
                + f->n * (ngx_strlen(f->name) + 64 + NGX_ATOMIC_T_LEN);
    }

    p = ngx_pnalloc(job->request->pool, size);
    if (p == NULL) {
        ngx_http_dukcapil_job_end(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  NULL, 0);
        return;
    }

    last = p;

    last = ngx_sprintf(last,
               "# HELP dukcapil_requests_total Answers per endpoint and "
               "status class.\n"
               "# TYPE dukcapil_requests_total counter\n");

    dmcf = job->dmcf;

    /* an endpoint's counters are at 1 + its index, as dlcf->metric says */
    for (endpoint = dmcf->endpoints, e = 1;
         endpoint->name.len && e < NGX_HTTP_DUKCAPIL_ENDPOINTS;
         endpoint++, e++)
    {
        for (c = 1; c < NGX_HTTP_DUKCAPIL_CLASSES; c++) {
            last = ngx_sprintf(last,
                       "dukcapil_requests_total{endpoint=\"%V\","
                       "status=\"%uixx\"} %uA\n",
                       &endpoint->name, c + 1,
                       ngx_http_dukcapil_counters
                       ? ngx_http_dukcapil_counters->requests[e][c] : 0);
        }
    }

    for (f = ngx_http_dukcapil_families;
         f < ngx_http_dukcapil_families
             + sizeof(ngx_http_dukcapil_families)
               / sizeof(ngx_http_dukcapil_family_t);
         f++)
    {
        last = ngx_sprintf(last, "# HELP %s %s\n# TYPE %s counter\n",
                           f->name, f->help, f->name);

        counter = ngx_http_dukcapil_counters
                  ? (ngx_atomic_t *) ((u_char *) ngx_http_dukcapil_counters
                                      + f->offset)
                  : NULL;

        for (c = 0; c < f->n; c++) {
            last = ngx_sprintf(last, "%s{%s=\"%s\"} %uA\n",
                               f->name, f->label, f->values[c],
                               counter ? counter[c] : 0);
        }
    }

    last = ngx_sprintf(last,
               "# HELP dukcapil_redis_up Whether Redis answered INFO memory "
               "for this scrape.\n"
               "# TYPE dukcapil_redis_up gauge\n"
               "dukcapil_redis_up %d\n", (rc == NGX_OK && mem->known) ? 1 : 0);

    if (rc == NGX_OK && mem->known) {
        last = ngx_sprintf(last,
                   "# HELP dukcapil_redis_used_memory_bytes Redis's "
                   "used_memory.\n"
                   "# TYPE dukcapil_redis_used_memory_bytes gauge\n"
                   "dukcapil_redis_used_memory_bytes %O\n"
                   "# HELP dukcapil_redis_maxmemory_bytes Redis's maxmemory "
                   "(0: no limit); past it, with noeviction, every booking "
                   "fails.\n"
                   "# TYPE dukcapil_redis_maxmemory_bytes gauge\n"
                   "dukcapil_redis_maxmemory_bytes %O\n",
                   mem->used, mem->max);
    }

    job->type = &type;

    ngx_http_dukcapil_job_end(job, NGX_HTTP_OK, p, last - p);
}
