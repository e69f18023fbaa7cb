
/*
 * $dukcapil_log_uri, $dukcapil_log_agent, $dukcapil_log_user: $uri,
 * $http_user_agent and $remote_user as they may be logged.  None of them
 * should ever hold a citizen's number, but a NIK typed where a code goes,
 * a phone in a User-Agent or a KK sent as a user name would: from a run of
 * ten digits on, the value is cut and ends in "*" (domain/mask.c).  A scan
 * of the bytes, no regular expression: it runs for every request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_log.h"
#include "mask.h"


enum {
    NGX_HTTP_DUKCAPIL_LOG_URI = 0,
    NGX_HTTP_DUKCAPIL_LOG_AGENT,
    NGX_HTTP_DUKCAPIL_LOG_USER
};


static ngx_int_t ngx_http_dukcapil_log_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_dukcapil_log_variables[] = {

    { ngx_string("dukcapil_log_uri"), NULL, ngx_http_dukcapil_log_variable,
      NGX_HTTP_DUKCAPIL_LOG_URI, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("dukcapil_log_agent"), NULL, ngx_http_dukcapil_log_variable,
      NGX_HTTP_DUKCAPIL_LOG_AGENT, 0, 0 },

    { ngx_string("dukcapil_log_user"), NULL, ngx_http_dukcapil_log_variable,
      NGX_HTTP_DUKCAPIL_LOG_USER, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_dukcapil_log_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_dukcapil_log_variables; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_dukcapil_log_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char     *p;
    size_t      n;
    ngx_str_t   s;

    switch (data) {

    case NGX_HTTP_DUKCAPIL_LOG_URI:
        s = r->uri;
        break;

    case NGX_HTTP_DUKCAPIL_LOG_AGENT:
        if (r->headers_in.user_agent == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }

        s = r->headers_in.user_agent->value;
        break;

    default: /* NGX_HTTP_DUKCAPIL_LOG_USER */
        if (ngx_http_auth_basic_user(r) != NGX_OK) {
            v->not_found = 1;
            return NGX_OK;
        }

        s = r->headers_in.user;
        break;
    }

    n = dk_mask_loggable((char *) s.data, s.len);

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    if (n == s.len) {
        v->len = s.len;
        v->data = s.data;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, n + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, s.data, n);
    p[n] = '*';

    v->len = n + 1;
    v->data = p;

    return NGX_OK;
}
