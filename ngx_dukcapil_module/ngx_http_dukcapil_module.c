
/*
 * Layanan Online Disdukcapil Kota Pekanbaru: directives, configuration,
 * worker start and stop, and the content handler that routes a location to
 * its endpoint.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_directives.h"
#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_log.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_pg.h"
#include "ngx_http_dukcapil_redis.h"
#include "ngx_http_dukcapil_redis_auth.h"
#include "ngx_http_dukcapil_redis_sentinel.h"
#include "ngx_http_dukcapil_redis_script.h"
#include "ngx_http_dukcapil_routes.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_token.h"
#include "ngx_http_dukcapil_util.h"


static void *ngx_http_dukcapil_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_dukcapil_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_dukcapil_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_dukcapil_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_dukcapil_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_dukcapil_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_dukcapil_init_process(ngx_cycle_t *cycle);
static void ngx_http_dukcapil_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_dukcapil_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static ngx_int_t ngx_http_dukcapil_handler(ngx_http_request_t *r);


static ngx_conf_post_handler_pt  ngx_http_dukcapil_positive_msec_p =
    ngx_http_dukcapil_positive_msec;

/* nginx's own bounds check does not name the directive: this one does */
static ngx_conf_num_bounds_t  ngx_http_dukcapil_pool_bounds = {
    ngx_http_dukcapil_bounds, 1, 64
};

static ngx_conf_num_bounds_t  ngx_http_dukcapil_queue_bounds = {
    ngx_http_dukcapil_bounds, 1, 1000000
};

static ngx_conf_num_bounds_t  ngx_http_dukcapil_window_bounds = {
    ngx_http_dukcapil_bounds, 1, 90
};

static ngx_conf_num_bounds_t  ngx_http_dukcapil_phone_cap_bounds = {
    ngx_http_dukcapil_bounds, 1, 100
};

static ngx_conf_num_bounds_t  ngx_http_dukcapil_otp_budget_bounds = {
    ngx_http_dukcapil_bounds, 0, 100000000
};


static ngx_command_t  ngx_http_dukcapil_commands[] = {

    { ngx_string("dukcapil_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_dukcapil_redis_address,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dukcapil_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, redis_connect_timeout),
      &ngx_http_dukcapil_positive_msec_p },

    { ngx_string("dukcapil_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, redis_timeout),
      &ngx_http_dukcapil_positive_msec_p },

    { ngx_string("dukcapil_redis_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, redis_queue),
      &ngx_http_dukcapil_queue_bounds },

    { ngx_string("dukcapil_redis_auth"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_dukcapil_redis_auth,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, redis_auth_file),
      NULL },

    { ngx_string("dukcapil_redis_sentinel"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_dukcapil_redis_sentinel,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dukcapil_redis_sentinel_auth"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_dukcapil_redis_auth,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, sentinel_auth_file),
      NULL },

    { ngx_string("dukcapil_postgres"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_dukcapil_postgres,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dukcapil_postgres_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, pg_pool),
      &ngx_http_dukcapil_pool_bounds },

    { ngx_string("dukcapil_postgres_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, pg_timeout),
      &ngx_http_dukcapil_positive_msec_p },

    { ngx_string("dukcapil_office"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_dukcapil_office_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dukcapil_service"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_dukcapil_service_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dukcapil_closed_weekdays"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_dukcapil_closed_weekdays,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dukcapil_booking_window"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, booking_window),
      &ngx_http_dukcapil_window_bounds },

    { ngx_string("dukcapil_phone_cap"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, phone_cap),
      &ngx_http_dukcapil_phone_cap_bounds },

    { ngx_string("dukcapil_phone_active_cap"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, phone_active_cap),
      &ngx_http_dukcapil_phone_cap_bounds },

    { ngx_string("dukcapil_idempotency_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, idempotency_ttl),
      NULL },

    { ngx_string("dukcapil_token_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_dukcapil_token_secret,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dukcapil_phone_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, phone_token_ttl),
      NULL },

    { ngx_string("dukcapil_otp_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, otp_ttl),
      NULL },

    { ngx_string("dukcapil_otp_daily_budget"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, otp_daily_budget),
      &ngx_http_dukcapil_otp_budget_bounds },

    { ngx_string("dukcapil_phone_verification"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_loc_conf_t, phone_verification),
      NULL },

    { ngx_string("dukcapil_endpoint"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_dukcapil_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_dukcapil_module_ctx = {
    ngx_http_dukcapil_preconfiguration,    /* preconfiguration */
    ngx_http_dukcapil_postconfiguration,   /* postconfiguration */

    ngx_http_dukcapil_create_main_conf,    /* create main configuration */
    ngx_http_dukcapil_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_dukcapil_create_loc_conf,     /* create location configuration */
    ngx_http_dukcapil_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_dukcapil_module = {
    NGX_MODULE_V1,
    &ngx_http_dukcapil_module_ctx,         /* module context */
    ngx_http_dukcapil_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_dukcapil_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_dukcapil_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_dukcapil_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dukcapil_main_conf_t));
    if (dmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     dmcf->redis_host = { 0, NULL };
     *     dmcf->pg_conninfo = { 0, NULL };
     *     dmcf->services[] = { ... enabled = 0 };
     *     dmcf->closed_weekdays = 0;
     */

    dmcf->redis_connect_timeout = NGX_CONF_UNSET_MSEC;
    dmcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    dmcf->redis_queue = NGX_CONF_UNSET_UINT;
    dmcf->pg_pool = NGX_CONF_UNSET_UINT;
    dmcf->pg_timeout = NGX_CONF_UNSET_MSEC;
    dmcf->booking_window = NGX_CONF_UNSET;
    dmcf->phone_cap = NGX_CONF_UNSET;
    dmcf->phone_active_cap = NGX_CONF_UNSET;
    dmcf->idempotency_ttl = NGX_CONF_UNSET;
    dmcf->phone_token_ttl = NGX_CONF_UNSET;
    dmcf->otp_ttl = NGX_CONF_UNSET;
    dmcf->otp_daily_budget = NGX_CONF_UNSET;
    dmcf->closed_weekdays = NGX_CONF_UNSET_UINT;

    dmcf->offices = ngx_array_create(cf->pool, 16,
                                     sizeof(ngx_http_dukcapil_office_t));
    if (dmcf->offices == NULL) {
        return NULL;
    }

    return dmcf;
}


static char *
ngx_http_dukcapil_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    ngx_uint_t  i;

    ngx_conf_init_msec_value(dmcf->redis_connect_timeout, 1000);
    ngx_conf_init_msec_value(dmcf->redis_timeout, 500);
    ngx_conf_init_uint_value(dmcf->redis_queue, 65536);
    ngx_conf_init_uint_value(dmcf->pg_pool, 4);
    ngx_conf_init_msec_value(dmcf->pg_timeout, 2000);
    ngx_conf_init_value(dmcf->booking_window, 14);
    ngx_conf_init_value(dmcf->phone_cap, 5);
    ngx_conf_init_value(dmcf->phone_active_cap, 3);
    ngx_conf_init_value(dmcf->idempotency_ttl, 86400);
    ngx_conf_init_value(dmcf->phone_token_ttl, 12 * 3600);
    ngx_conf_init_value(dmcf->otp_ttl, 300);
    ngx_conf_init_value(dmcf->otp_daily_budget, 20000);
    ngx_conf_init_uint_value(dmcf->closed_weekdays, 1);    /* Sunday */

    for (i = 0; i < NGX_HTTP_DUKCAPIL_SERVICES; i++) {
        dmcf->services[i].code = ngx_http_dukcapil_service_codes[i];

        if (ngx_http_dukcapil_decimal_arg(cf, dmcf->services[i].quota,
                                          &dmcf->services[i].quota_arg)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_dukcapil_decimal_arg(cf, dmcf->phone_cap,
                                      &dmcf->phone_cap_arg)
        != NGX_OK
        || ngx_http_dukcapil_decimal_arg(cf, dmcf->phone_active_cap,
                                         &dmcf->phone_active_cap_arg)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (!dmcf->enabled) {
        return NGX_CONF_OK;
    }

    return ngx_http_dukcapil_conf_complete(cf, dmcf);
}


static void *
ngx_http_dukcapil_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_dukcapil_loc_conf_t  *dlcf;

    dlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dukcapil_loc_conf_t));
    if (dlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     dlcf->endpoint = NULL;
     *     dlcf->metric = 0;
     */

    dlcf->phone_verification = NGX_CONF_UNSET;

    return dlcf;
}


static char *
ngx_http_dukcapil_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_dukcapil_loc_conf_t *prev = parent;
    ngx_http_dukcapil_loc_conf_t *conf = child;

    ngx_http_dukcapil_endpoint_pt   h;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    /* an endpoint belongs to its own location and is not inherited */
    ngx_conf_merge_value(conf->phone_verification, prev->phone_verification,
                         1);

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dukcapil_module);
    h = conf->endpoint ? conf->endpoint->handler : NULL;

    if (dmcf->token_secret.len == 0
        && (h == ngx_http_dukcapil_otp_confirm_handler
            || (conf->phone_verification
                && (h == ngx_http_dukcapil_booking_handler
                    || h == ngx_http_dukcapil_applications_handler))))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_endpoint %V\" needs "
                           "\"dukcapil_token_secret\" (or "
                           "\"dukcapil_phone_verification off\")",
                           &conf->endpoint->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_dukcapil_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_dukcapil_log_add_variables(cf);
}


static ngx_int_t
ngx_http_dukcapil_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dukcapil_module);

    if (!dmcf->enabled) {
        return NGX_OK;
    }

    if (ngx_http_dukcapil_ops_authenticated(cf, dmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_dukcapil_metrics_init(cf, ngx_http_dukcapil_endpoints);
}


static ngx_int_t
ngx_http_dukcapil_init_process(ngx_cycle_t *cycle)
{
    ngx_http_dukcapil_main_conf_t  *dmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    dmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_dukcapil_module);

    if (dmcf == NULL || !dmcf->enabled) {
        return NGX_OK;
    }

    json_set_alloc_funcs(ngx_http_dukcapil_json_malloc,
                         ngx_http_dukcapil_json_free);

    if (ngx_http_dukcapil_script_init_process(cycle) != NGX_OK
        || ngx_http_dukcapil_redis_init_process(cycle, dmcf,
                                          ngx_http_dukcapil_script_load,
                                          ngx_http_dukcapil_script_calls)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_dukcapil_pg_init_process(cycle, dmcf,
                                             ngx_http_dukcapil_statements,
                                             ngx_http_dukcapil_nstatements);
}


static void
ngx_http_dukcapil_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_dukcapil_main_conf_t  *dmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return;
    }

    dmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_dukcapil_module);

    if (dmcf == NULL || !dmcf->enabled) {
        return;
    }

    ngx_http_dukcapil_redis_exit_process();
    ngx_http_dukcapil_pg_exit_process();
    ngx_http_dukcapil_job_exit_process();
}


static char *
ngx_http_dukcapil_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dukcapil_loc_conf_t *dlcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_dukcapil_endpoint_t      *e;
    ngx_http_dukcapil_main_conf_t     *dmcf;

    if (dlcf->endpoint) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0, e = ngx_http_dukcapil_endpoints; e->handler; i++, e++) {
        if (e->name.len == value[1].len
            && ngx_strncmp(e->name.data, value[1].data, value[1].len) == 0)
        {
            break;
        }
    }

    if (e->handler == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_endpoint\" has an unknown endpoint "
                           "\"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    dlcf->endpoint = e;
    dlcf->metric = i + 1;

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dukcapil_module);

    if (ngx_strncmp(e->name.data, "ops_", 4) == 0
        && ngx_http_dukcapil_ops_location(cf, dmcf, &e->name) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_dukcapil_handler;

    dmcf->enabled = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_dukcapil_handler(ngx_http_request_t *r)
{
    ngx_http_dukcapil_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_dukcapil_module);

    return dlcf->endpoint->handler(r);
}
