
/*
 * Counters shared by all workers: requests per endpoint and status class
 * (counted in the log phase, so every answer counts, whoever produced it),
 * the outcome of every booking decision, and the calls of the module's
 * Redis scripts (bookings over book calls: how many one call decides).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_module.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_redis.h"


#define NGX_HTTP_DUKCAPIL_ENDPOINTS  16
#define NGX_HTTP_DUKCAPIL_CLASSES    5       /* 1xx .. 5xx */


typedef struct {
    ngx_atomic_t  requests[NGX_HTTP_DUKCAPIL_ENDPOINTS]
                          [NGX_HTTP_DUKCAPIL_CLASSES];
    ngx_atomic_t  bookings[NGX_HTTP_DUKCAPIL_OUTCOMES];
    ngx_atomic_t  script_calls[NGX_HTTP_DUKCAPIL_LUA_N];
} ngx_http_dukcapil_counters_t;


static ngx_int_t ngx_http_dukcapil_metrics_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_dukcapil_metrics_log(ngx_http_request_t *r);


static ngx_http_dukcapil_counters_t  *ngx_http_dukcapil_counters;

static const char  *ngx_http_dukcapil_endpoint_names[] = {
    "", "services", "availability", "appointments", "appointment",
    "applications", "application", "ops_application_status",
    "ops_appointment_check_in", "ops_quota", "health", "metrics"
};

static const char  *ngx_http_dukcapil_outcome_names[] = {
    "booked", "quota_full", "already_booked", "phone_limit", "no_show_bar",
    "closed", "state_rebuilding", "released", "failed"
};

static const char  *ngx_http_dukcapil_script_names[NGX_HTTP_DUKCAPIL_LUA_N] = {
    "book", "release"
};


ngx_int_t
ngx_http_dukcapil_metrics_init(ngx_conf_t *cf)
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
    if (ngx_http_dukcapil_counters && script < NGX_HTTP_DUKCAPIL_LUA_N) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_dukcapil_counters->script_calls[script], 1);
    }
}


ngx_int_t
ngx_http_dukcapil_metrics_handler(ngx_http_request_t *r)
{
    u_char      *p, *last;
    size_t       size;
    ngx_int_t    rc;
    ngx_uint_t   e, c;
    ngx_str_t    type = ngx_string("text/plain; version=0.0.4");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    size = 512 + NGX_HTTP_DUKCAPIL_ENDPOINTS * NGX_HTTP_DUKCAPIL_CLASSES * 96
           + NGX_HTTP_DUKCAPIL_OUTCOMES * 96 + 256
           + NGX_HTTP_DUKCAPIL_LUA_N * 96;

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = p;

    last = ngx_sprintf(last,
               "# HELP dukcapil_requests_total Answers per endpoint and "
               "status class.\n"
               "# TYPE dukcapil_requests_total counter\n");

    for (e = 1; e < sizeof(ngx_http_dukcapil_endpoint_names)
                    / sizeof(char *); e++)
    {
        for (c = 1; c < NGX_HTTP_DUKCAPIL_CLASSES; c++) {
            last = ngx_sprintf(last,
                       "dukcapil_requests_total{endpoint=\"%s\","
                       "status=\"%uixx\"} %uA\n",
                       ngx_http_dukcapil_endpoint_names[e], c + 1,
                       ngx_http_dukcapil_counters
                       ? ngx_http_dukcapil_counters->requests[e][c] : 0);
        }
    }

    last = ngx_sprintf(last,
               "# HELP dukcapil_bookings_total Booking decisions by "
               "outcome.\n"
               "# TYPE dukcapil_bookings_total counter\n");

    for (c = 0; c < NGX_HTTP_DUKCAPIL_OUTCOMES; c++) {
        last = ngx_sprintf(last,
                           "dukcapil_bookings_total{outcome=\"%s\"} %uA\n",
                           ngx_http_dukcapil_outcome_names[c],
                           ngx_http_dukcapil_counters
                           ? ngx_http_dukcapil_counters->bookings[c] : 0);
    }

    last = ngx_sprintf(last,
               "# HELP dukcapil_redis_script_calls_total Calls of the "
               "module's Redis scripts; one book call decides the bookings "
               "of one event-loop pass.\n"
               "# TYPE dukcapil_redis_script_calls_total counter\n");

    for (c = 0; c < NGX_HTTP_DUKCAPIL_LUA_N; c++) {
        last = ngx_sprintf(last,
                           "dukcapil_redis_script_calls_total{script=\"%s\"} "
                           "%uA\n",
                           ngx_http_dukcapil_script_names[c],
                           ngx_http_dukcapil_counters
                           ? ngx_http_dukcapil_counters->script_calls[c] : 0);
    }

    return ngx_http_dukcapil_send_text(r, NGX_HTTP_OK, &type, p, last - p);
}
