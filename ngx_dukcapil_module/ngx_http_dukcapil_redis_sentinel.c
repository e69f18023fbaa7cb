
/*
 * dukcapil_redis_sentinel IP:port ... master_name: addresses only (a name
 * would need DNS, which blocks a worker), and never with dukcapil_redis.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_redis_sentinel.h"


static char *ngx_http_dukcapil_sentinel_address(ngx_conf_t *cf,
    ngx_str_t *text, ngx_http_dukcapil_sentinel_t *s);


/*
 * dukcapil_redis_sentinel IP:port ... master_name: the master's address is
 * asked of these Sentinels, in turn.  The other way to name Redis,
 * dukcapil_redis, may not be given with it.
 */
char *
ngx_http_dukcapil_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    char                          *rv;
    ngx_str_t                     *value, *name;
    ngx_uint_t                     i;
    ngx_http_dukcapil_sentinel_t  *s;

    if (dmcf->redis_sentinels) {
        return "is duplicate";
    }

    if (dmcf->redis_host.data) {
        return "may not be used with \"dukcapil_redis\": "
               "the Sentinels name the master";
    }

    value = cf->args->elts;
    name = &value[cf->args->nelts - 1];

    for (i = 0; i < name->len; i++) {
        if (name->data[i] <= ' ' || name->data[i] == ':') {
            return "needs the master's name last, as in sentinel.conf";
        }
    }

    dmcf->redis_sentinels = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                      sizeof(ngx_http_dukcapil_sentinel_t));
    if (dmcf->redis_sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts - 1; i++) {
        s = ngx_array_push(dmcf->redis_sentinels);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        rv = ngx_http_dukcapil_sentinel_address(cf, &value[i], s);
        if (rv != NGX_CONF_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"dukcapil_redis_sentinel\" \"%V\" %s",
                               &value[i], rv);
            return NGX_CONF_ERROR;
        }
    }

    dmcf->redis_master_name = *name;

    return NGX_CONF_OK;
}


/* "127.0.0.1:26379" or "[::1]:26379": a name would need DNS */

static char *
ngx_http_dukcapil_sentinel_address(ngx_conf_t *cf, ngx_str_t *text,
    ngx_http_dukcapil_sentinel_t *s)
{
    u_char      *p, *last;
    ngx_int_t    port;
    ngx_str_t    host;
    ngx_addr_t   addr;

    last = text->data + text->len;
    p = ngx_strlchr(text->data, last, ']');
    p = ngx_strlchr(p ? p : text->data, last, ':');

    if (p == NULL) {
        return "needs \"IP:port\"";
    }

    port = ngx_atoi(p + 1, last - p - 1);
    if (port < 1 || port > 65535) {
        return "has an invalid port";
    }

    host.data = text->data;
    host.len = p - text->data;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
    }

    if (ngx_parse_addr(cf->pool, &addr, host.data, host.len) != NGX_OK) {
        return "needs an IP address, not a host name";
    }

    s->host.len = host.len;
    s->host.data = ngx_pnalloc(cf->pool, host.len + 1);
    if (s->host.data == NULL) {
        return "is out of memory";
    }

    ngx_cpystrn(s->host.data, host.data, host.len + 1);
    s->port = (in_port_t) port;

    return NGX_CONF_OK;
}
