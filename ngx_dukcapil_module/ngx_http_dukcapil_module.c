
/*
 * Layanan Online Disdukcapil Kota Pekanbaru: directives, configuration,
 * worker start and stop, and the content handler that routes a location to
 * its endpoint.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sys/random.h>
#include <libpq-fe.h>

#include "ngx_http_dukcapil_module.h"
#include "ngx_http_dukcapil_redis.h"
#include "ngx_http_dukcapil_pg.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_request.h"
#include "ngx_http_dukcapil_metrics.h"


typedef struct {
    ngx_str_t                       name;
    ngx_http_dukcapil_endpoint_pt   handler;
} ngx_http_dukcapil_endpoint_t;


static void *ngx_http_dukcapil_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_dukcapil_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_dukcapil_decimal_arg(ngx_conf_t *cf, ngx_int_t n,
    ngx_str_t *arg);
static void *ngx_http_dukcapil_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_dukcapil_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_dukcapil_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_dukcapil_init_process(ngx_cycle_t *cycle);
static void ngx_http_dukcapil_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_dukcapil_redis_address(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_dukcapil_postgres(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dukcapil_office_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_dukcapil_service_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_dukcapil_closed_weekdays(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_dukcapil_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dukcapil_positive_msec(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_dukcapil_bounds(ngx_conf_t *cf, void *post, void *data);

static ngx_int_t ngx_http_dukcapil_handler(ngx_http_request_t *r);


static ngx_conf_post_handler_pt  ngx_http_dukcapil_positive_msec_p =
    ngx_http_dukcapil_positive_msec;

/* nginx's own bounds check does not name the directive: this one does */
static ngx_conf_num_bounds_t  ngx_http_dukcapil_pool_bounds = {
    ngx_http_dukcapil_bounds, 1, 64
};

static ngx_conf_num_bounds_t  ngx_http_dukcapil_window_bounds = {
    ngx_http_dukcapil_bounds, 1, 90
};

static ngx_conf_num_bounds_t  ngx_http_dukcapil_phone_cap_bounds = {
    ngx_http_dukcapil_bounds, 1, 100
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

    { ngx_string("dukcapil_idempotency_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dukcapil_main_conf_t, idempotency_ttl),
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
    NULL,                                  /* preconfiguration */
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


ngx_str_t  ngx_http_dukcapil_service_codes[] = {
    ngx_string("ktp"),
    ngx_string("kk"),
    ngx_string("akta_lahir"),
    ngx_string("akta_mati"),
    ngx_string("kia"),
    ngx_string("pindah"),
    ngx_string("ambil"),
};


static ngx_http_dukcapil_endpoint_t  ngx_http_dukcapil_endpoints[] = {
    { ngx_string("services"), ngx_http_dukcapil_services_handler },
    { ngx_string("availability"), ngx_http_dukcapil_availability_handler },
    { ngx_string("appointments"), ngx_http_dukcapil_appointments_handler },
    { ngx_string("appointment"), ngx_http_dukcapil_appointment_handler },
    { ngx_string("applications"), ngx_http_dukcapil_applications_handler },
    { ngx_string("application"), ngx_http_dukcapil_application_handler },
    { ngx_string("ops_application_status"),
      ngx_http_dukcapil_ops_status_handler },
    { ngx_string("ops_appointment_check_in"),
      ngx_http_dukcapil_ops_check_in_handler },
    { ngx_string("ops_quota"), ngx_http_dukcapil_ops_quota_handler },
    { ngx_string("health"), ngx_http_dukcapil_health_handler },
    { ngx_string("metrics"), ngx_http_dukcapil_metrics_handler },
    { ngx_null_string, NULL }
};


static ngx_str_t  ngx_http_dukcapil_weekdays[] = {
    ngx_string("sun"), ngx_string("mon"), ngx_string("tue"),
    ngx_string("wed"), ngx_string("thu"), ngx_string("fri"),
    ngx_string("sat"),
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
    dmcf->pg_pool = NGX_CONF_UNSET_UINT;
    dmcf->pg_timeout = NGX_CONF_UNSET_MSEC;
    dmcf->booking_window = NGX_CONF_UNSET;
    dmcf->phone_cap = NGX_CONF_UNSET;
    dmcf->idempotency_ttl = NGX_CONF_UNSET;
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

    ngx_uint_t  i, n;

    ngx_conf_init_msec_value(dmcf->redis_connect_timeout, 1000);
    ngx_conf_init_msec_value(dmcf->redis_timeout, 500);
    ngx_conf_init_uint_value(dmcf->pg_pool, 4);
    ngx_conf_init_msec_value(dmcf->pg_timeout, 2000);
    ngx_conf_init_value(dmcf->booking_window, 14);
    ngx_conf_init_value(dmcf->phone_cap, 5);
    ngx_conf_init_value(dmcf->idempotency_ttl, 86400);
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
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (!dmcf->enabled) {
        return NGX_CONF_OK;
    }

    if (dmcf->redis_host.data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dukcapil_endpoint\" is used, "
                      "but \"dukcapil_redis\" is not set");
        return NGX_CONF_ERROR;
    }

    if (dmcf->pg_conninfo.data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dukcapil_endpoint\" is used, "
                      "but \"dukcapil_postgres\" is not set");
        return NGX_CONF_ERROR;
    }

    if (dmcf->offices->nelts == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dukcapil_endpoint\" is used, "
                      "but no \"dukcapil_office\" is set");
        return NGX_CONF_ERROR;
    }

    for (i = 0, n = 0; i < NGX_HTTP_DUKCAPIL_SERVICES; i++) {
        n += dmcf->services[i].enabled;
    }

    if (n == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dukcapil_endpoint\" is used, "
                      "but no \"dukcapil_service\" is set");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * n in decimal (NUL-terminated), made once at configuration: every booking
 * sends it to Redis
 */
static ngx_int_t
ngx_http_dukcapil_decimal_arg(ngx_conf_t *cf, ngx_int_t n, ngx_str_t *arg)
{
    u_char  *p;

    p = ngx_pnalloc(cf->pool, NGX_INT_T_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    arg->data = p;
    arg->len = ngx_sprintf(p, "%i%Z", n) - p - 1;

    return NGX_OK;
}


/*
 * n in decimal, without a format to parse: for what the busiest paths
 * write (Redis commands, availability answers)
 */
u_char *
ngx_http_dukcapil_decimal(u_char *p, ngx_int_t n)
{
    u_char      digits[NGX_INT_T_LEN], *d;
    ngx_uint_t  u;

    if (n < 0) {
        *p++ = '-';
        u = (ngx_uint_t) -(n + 1) + 1;

    } else {
        u = (ngx_uint_t) n;
    }

    d = digits + NGX_INT_T_LEN;

    do {
        *--d = (u_char) ('0' + u % 10);
        u /= 10;
    } while (u);

    return ngx_cpymem(p, d, digits + NGX_INT_T_LEN - d);
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

    return dlcf;
}


static char *
ngx_http_dukcapil_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    /* an endpoint belongs to its own location and is not inherited */
    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_dukcapil_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dukcapil_module);

    if (!dmcf->enabled) {
        return NGX_OK;
    }

    return ngx_http_dukcapil_metrics_init(cf);
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

    if (ngx_http_dukcapil_redis_init_process(cycle, dmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_dukcapil_pg_init_process(cycle, dmcf);
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

    ngx_http_dukcapil_redis_exit_process(cycle);
    ngx_http_dukcapil_pg_exit_process(cycle);
    ngx_http_dukcapil_job_exit_process();
}


/* "127.0.0.1:6379", "[::1]:6379" or "unix:/run/redis.sock": never a name */

static char *
ngx_http_dukcapil_redis_address(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    u_char     *p, *last;
    ngx_int_t   port;
    ngx_str_t  *value, host;
    ngx_addr_t  addr;

    if (dmcf->redis_host.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        if (value[1].len < 6 || value[1].data[5] != '/') {
            return "needs an absolute unix socket path";
        }

        dmcf->redis_host.len = value[1].len - 5;
        dmcf->redis_host.data = ngx_pnalloc(cf->pool, value[1].len - 4);
        if (dmcf->redis_host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(dmcf->redis_host.data, value[1].data + 5,
                    value[1].len - 4);
        dmcf->redis_port = 0;

        return NGX_CONF_OK;
    }

    last = value[1].data + value[1].len;
    p = ngx_strlchr(value[1].data, last, ']');
    p = ngx_strlchr(p ? p : value[1].data, last, ':');

    if (p == NULL) {
        return "needs \"IP:port\" or \"unix:/path\"";
    }

    port = ngx_atoi(p + 1, last - p - 1);
    if (port < 1 || port > 65535) {
        return "has an invalid port";
    }

    host.data = value[1].data;
    host.len = p - value[1].data;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
    }

    /* a host name would need DNS, which would block a worker */
    if (ngx_parse_addr(cf->pool, &addr, host.data, host.len) != NGX_OK) {
        return "needs an IP address, not a host name";
    }

    dmcf->redis_host.len = host.len;
    dmcf->redis_host.data = ngx_pnalloc(cf->pool, host.len + 1);
    if (dmcf->redis_host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(dmcf->redis_host.data, host.data, host.len + 1);
    dmcf->redis_port = (in_port_t) port;

    return NGX_CONF_OK;
}


static char *
ngx_http_dukcapil_postgres(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    char                     *err;
    ngx_str_t                *value;
    ngx_addr_t                addr;
    PQconninfoOption         *opts, *o;
    const char               *host, *hostaddr;

    if (dmcf->pg_conninfo.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dmcf->pg_conninfo.len = value[1].len;
    dmcf->pg_conninfo.data = ngx_pnalloc(cf->pool, value[1].len + 1);
    if (dmcf->pg_conninfo.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(dmcf->pg_conninfo.data, value[1].data, value[1].len + 1);

    err = NULL;
    opts = PQconninfoParse((char *) dmcf->pg_conninfo.data, &err);

    if (opts == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_postgres\" has an invalid conninfo: %s",
                           err ? err : "out of memory");
        PQfreemem(err);
        return NGX_CONF_ERROR;
    }

    host = NULL;
    hostaddr = NULL;

    for (o = opts; o->keyword; o++) {
        if (o->val == NULL) {
            continue;
        }

        if (ngx_strcmp(o->keyword, "host") == 0) {
            host = o->val;

        } else if (ngx_strcmp(o->keyword, "hostaddr") == 0) {
            hostaddr = o->val;
        }
    }

    /* libpq resolves a host name with blocking getaddrinfo() */

    if (hostaddr == NULL && host != NULL && host[0] != '/'
        && ngx_parse_addr(cf->pool, &addr, (u_char *) host,
                          ngx_strlen(host))
           != NGX_OK)
    {
        PQconninfoFree(opts);
        return "needs \"hostaddr=IP\" or a socket directory: "
               "a host name would block a worker on DNS";
    }

    if (hostaddr == NULL && host == NULL) {
        PQconninfoFree(opts);
        return "needs \"hostaddr=IP\" or \"host=/socket/directory\"";
    }

    PQconninfoFree(opts);

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_dukcapil_code_valid(ngx_str_t *code)
{
    ngx_uint_t  i;

    if (code->len == 0 || code->len > 32
        || code->data[0] < 'a' || code->data[0] > 'z')
    {
        return 0;
    }

    for (i = 1; i < code->len; i++) {
        if (!((code->data[i] >= 'a' && code->data[i] <= 'z')
              || (code->data[i] >= '0' && code->data[i] <= '9')
              || code->data[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static char *
ngx_http_dukcapil_office_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    ngx_str_t                   *value;
    ngx_http_dukcapil_office_t  *office;

    value = cf->args->elts;

    if (!ngx_http_dukcapil_code_valid(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_office\" has an invalid code \"%V\": "
                           "use 1-32 of a-z, 0-9, _", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_dukcapil_office(dmcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_office\" \"%V\" is duplicate",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[2].len == 0) {
        return "needs a name";
    }

    office = ngx_array_push(dmcf->offices);
    if (office == NULL) {
        return NGX_CONF_ERROR;
    }

    office->code = value[1];
    office->name = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_dukcapil_service_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    ngx_int_t                     i, quota;
    ngx_str_t                    *value;
    ngx_http_dukcapil_service_t  *service;

    value = cf->args->elts;

    i = ngx_http_dukcapil_service_index(&value[1]);

    if (i == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_service\" has an unknown service "
                           "\"%V\": use ktp, kk, akta_lahir, akta_mati, kia, "
                           "pindah or ambil", &value[1]);
        return NGX_CONF_ERROR;
    }

    service = &dmcf->services[i];

    if (service->enabled) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_service\" \"%V\" is duplicate",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[2].len == 0) {
        return "needs a name";
    }

    quota = ngx_atoi(value[3].data, value[3].len);

    if (quota == NGX_ERROR || quota > 100000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_service\" has an invalid daily quota "
                           "\"%V\": use 0-100000", &value[3]);
        return NGX_CONF_ERROR;
    }

    service->enabled = 1;
    service->name = value[2];
    service->quota = quota;

    return NGX_CONF_OK;
}


static char *
ngx_http_dukcapil_closed_weekdays(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, d, mask;

    if (dmcf->closed_weekdays != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mask = 0;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "none") == 0) {
        dmcf->closed_weekdays = 0;
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        for (d = 0; d < 7; d++) {
            if (value[i].len == 3
                && ngx_strncasecmp(value[i].data,
                                   ngx_http_dukcapil_weekdays[d].data, 3)
                   == 0)
            {
                break;
            }
        }

        if (d == 7) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"dukcapil_closed_weekdays\" has an invalid "
                               "day \"%V\": use sun, mon, tue, wed, thu, "
                               "fri, sat or none", &value[i]);
            return NGX_CONF_ERROR;
        }

        mask |= 1 << d;
    }

    dmcf->closed_weekdays = mask;

    return NGX_CONF_OK;
}


static char *
ngx_http_dukcapil_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dukcapil_loc_conf_t *dlcf = conf;

    ngx_str_t                      *value;
    ngx_uint_t                      i;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_dukcapil_endpoint_t   *e;
    ngx_http_dukcapil_main_conf_t  *dmcf;

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

    dlcf->endpoint = e->handler;
    dlcf->metric = i + 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_dukcapil_handler;

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dukcapil_module);
    dmcf->enabled = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_dukcapil_positive_msec(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms == 0) {
        return "must be positive";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_dukcapil_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_conf_num_bounds_t *bounds = post;
    ngx_int_t             *np = data;

    u_char  *p;

    if (*np >= bounds->low && *np <= bounds->high) {
        return NGX_CONF_OK;
    }

    p = ngx_pnalloc(cf->pool, 64);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_snprintf(p, 64, "must be between %i and %i%Z", bounds->low,
                 bounds->high);

    return (char *) p;
}


static ngx_int_t
ngx_http_dukcapil_handler(ngx_http_request_t *r)
{
    ngx_http_dukcapil_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_dukcapil_module);

    return dlcf->endpoint(r);
}


ngx_int_t
ngx_http_dukcapil_service_index(ngx_str_t *code)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_DUKCAPIL_SERVICES; i++) {
        if (ngx_http_dukcapil_service_codes[i].len == code->len
            && ngx_strncmp(ngx_http_dukcapil_service_codes[i].data,
                           code->data, code->len)
               == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}


ngx_http_dukcapil_office_t *
ngx_http_dukcapil_office(ngx_http_dukcapil_main_conf_t *dmcf, ngx_str_t *code)
{
    ngx_uint_t                   i;
    ngx_http_dukcapil_office_t  *office;

    office = dmcf->offices->elts;

    for (i = 0; i < dmcf->offices->nelts; i++) {
        if (office[i].code.len == code->len
            && ngx_strncmp(office[i].code.data, code->data, code->len) == 0)
        {
            return &office[i];
        }
    }

    return NULL;
}


/* a day is open when it is in the booking window and not a closed weekday */

ngx_int_t
ngx_http_dukcapil_day_open(ngx_http_dukcapil_main_conf_t *dmcf, int32_t day)
{
    int32_t  today;

    today = ngx_http_dukcapil_today();

    if (day <= today || day > today + dmcf->booking_window) {
        return 0;
    }

    return !(dmcf->closed_weekdays & (1 << dk_date_weekday(day)));
}


int32_t
ngx_http_dukcapil_today(void)
{
    return dk_wib_today(ngx_time());
}


/*
 * A code for a citizen, from the OS CSPRNG: read a block at a time, so
 * that the 07:00 rush does not make one getrandom() call per request.
 */
ngx_int_t
ngx_http_dukcapil_code(char prefix, char code[DK_CODE_LEN + 1])
{
    ssize_t  n;

    static u_char  random[4096];
    static size_t  left;

    if (left < DK_CODE_RANDOM) {
        n = getrandom(random, sizeof(random), 0);

        if (n < (ssize_t) DK_CODE_RANDOM) {
            return NGX_ERROR;
        }

        left = n;
    }

    left -= DK_CODE_RANDOM;

    if (dk_code_encode(prefix, random + left, code) != 0) {
        return NGX_ERROR;
    }

    /* a byte used is a byte forgotten */
    ngx_memzero(random + left, DK_CODE_RANDOM);

    return NGX_OK;
}
