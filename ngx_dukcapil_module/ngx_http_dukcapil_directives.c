
/*
 * The module's own directive setters.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>

#include "ngx_http_dukcapil_directives.h"
#include "ngx_http_dukcapil_util.h"


/*
 * The head of ngx_http_auth_basic_module's location configuration: the
 * realm, then the user file (a pointer, or in older nginx a complex value
 * whose first word is its length): each is NULL or 0 where no auth_basic
 * applies.  Its source keeps the type to itself.
 */
typedef struct {
    ngx_http_complex_value_t          *realm;
    void                              *user_file;
} ngx_http_dukcapil_auth_basic_t;


/* where an operator's endpoint is turned on, for the check at the end */
typedef struct {
    ngx_http_dukcapil_auth_basic_t    *auth;
    ngx_http_core_loc_conf_t          *core;
    ngx_str_t                          endpoint;
    ngx_str_t                          file;
    ngx_uint_t                         line;
} ngx_http_dukcapil_ops_location_t;


static ngx_uint_t ngx_http_dukcapil_code_valid(ngx_str_t *code);


extern ngx_module_t  ngx_http_auth_basic_module;


static ngx_str_t  ngx_http_dukcapil_weekdays[] = {
    ngx_string("sun"), ngx_string("mon"), ngx_string("tue"),
    ngx_string("wed"), ngx_string("thu"), ngx_string("fri"),
    ngx_string("sat"),
};



/* "127.0.0.1:6379", "[::1]:6379" or "unix:/run/redis.sock": never a name */

char *
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

    if (dmcf->redis_sentinels) {
        return "may not be used with \"dukcapil_redis_sentinel\": "
               "the Sentinels name the master";
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


char *
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


char *
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


char *
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


char *
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


char *
ngx_http_dukcapil_positive_msec(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms == 0) {
        return "must be positive";
    }

    return NGX_CONF_OK;
}


char *
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


/* an operator's endpoint in the location being parsed */

ngx_int_t
ngx_http_dukcapil_ops_location(ngx_conf_t *cf,
    ngx_http_dukcapil_main_conf_t *dmcf, ngx_str_t *endpoint)
{
    ngx_http_dukcapil_ops_location_t  *ops;

    if (dmcf->ops_locations == NULL) {
        dmcf->ops_locations = ngx_array_create(cf->pool, 4,
                                   sizeof(ngx_http_dukcapil_ops_location_t));
        if (dmcf->ops_locations == NULL) {
            return NGX_ERROR;
        }
    }

    ops = ngx_array_push(dmcf->ops_locations);
    if (ops == NULL) {
        return NGX_ERROR;
    }

    ops->auth = ngx_http_conf_get_module_loc_conf(cf,
                                                  ngx_http_auth_basic_module);
    ops->core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    ops->endpoint = *endpoint;
    ops->file = cf->conf_file->file.name;
    ops->line = cf->conf_file->line;

    return NGX_OK;
}


/*
 * An operator's endpoint is never open by mistake: its location, merged,
 * has auth_basic with a user file and a realm that is not a variable (one
 * that could say "off"), and "satisfy all" (with "satisfy any", an allowed
 * address skips the password, and the Basic header is nobody's word), so
 * that the actor the audit trail records is one nginx verified.  Checked
 * once every location is merged.
 */
ngx_int_t
ngx_http_dukcapil_ops_authenticated(ngx_conf_t *cf,
    ngx_http_dukcapil_main_conf_t *dmcf)
{
    ngx_str_t                          off = ngx_string("off");
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *realm;
    ngx_http_dukcapil_ops_location_t  *loc;

    if (dmcf->ops_locations == NULL) {
        return NGX_OK;
    }

    loc = dmcf->ops_locations->elts;

    for (i = 0; i < dmcf->ops_locations->nelts; i++) {
        realm = loc[i].auth->realm;

        if (realm == NULL || loc[i].auth->user_file == NULL
            || realm->lengths != NULL
            || (realm->value.len == off.len
                && ngx_strncmp(realm->value.data, off.data, off.len) == 0))
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"dukcapil_endpoint %V\" in %V:%ui has no "
                          "\"auth_basic\" with a fixed realm and "
                          "\"auth_basic_user_file\": an operator's "
                          "endpoint must not be open to anyone",
                          &loc[i].endpoint, &loc[i].file, loc[i].line);
            return NGX_ERROR;
        }

        if (loc[i].core->satisfy != NGX_HTTP_SATISFY_ALL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"dukcapil_endpoint %V\" in %V:%ui is under "
                          "\"satisfy any\": an operator's password must "
                          "be checked whatever the address",
                          &loc[i].endpoint, &loc[i].file, loc[i].line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* what every endpoint needs: checked once a location uses one */

char *
ngx_http_dukcapil_conf_complete(ngx_conf_t *cf,
    ngx_http_dukcapil_main_conf_t *dmcf)
{
    ngx_uint_t  i, n;

    if (dmcf->redis_host.data == NULL && dmcf->redis_sentinels == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dukcapil_endpoint\" is used, but neither "
                      "\"dukcapil_redis\" nor \"dukcapil_redis_sentinel\" "
                      "is set");
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
ngx_int_t
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
