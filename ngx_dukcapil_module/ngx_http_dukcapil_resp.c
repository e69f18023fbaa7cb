
/*
 * RESP: "*<argc>\r\n", then "$<len>\r\n<bytes>\r\n" per argument; and
 * what hiredis has made of a reply, read.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_resp.h"
#include "ngx_http_dukcapil_util.h"


static u_char *ngx_http_dukcapil_resp_decimal(u_char *p, size_t n);


/* where a command is formatted: it grows to the longest sent, never shrinks */
static ngx_str_t  ngx_http_dukcapil_resp_buf;


/*
 * The worker's one buffer, with room for len bytes and a NUL: hiredis
 * copies a command into its output buffer before it is used again.
 */
u_char *
ngx_http_dukcapil_resp_buffer(size_t len)
{
    u_char  *p;

    if (len + 1 > ngx_http_dukcapil_resp_buf.len) {
        len = ngx_max(len + 1, 4096);

        p = ngx_alloc(len, ngx_cycle->log);
        if (p == NULL) {
            return NULL;
        }

        if (ngx_http_dukcapil_resp_buf.data) {
            ngx_free(ngx_http_dukcapil_resp_buf.data);
        }

        ngx_http_dukcapil_resp_buf.data = p;
        ngx_http_dukcapil_resp_buf.len = len;
    }

    return ngx_http_dukcapil_resp_buf.data;
}


void
ngx_http_dukcapil_resp_free(void)
{
    if (ngx_http_dukcapil_resp_buf.data) {
        ngx_free(ngx_http_dukcapil_resp_buf.data);
        ngx_str_null(&ngx_http_dukcapil_resp_buf);
    }
}


u_char *
ngx_http_dukcapil_resp_head(u_char *p, ngx_uint_t argc)
{
    *p++ = '*';

    return ngx_http_dukcapil_resp_decimal(p, argc);
}


/* at least the size of the RESP of argv[0..argc); argvlen NULL: C strings */

size_t
ngx_http_dukcapil_resp_size(ngx_uint_t argc, const char **argv,
    const size_t *argvlen)
{
    size_t      len;
    ngx_uint_t  i;

    len = 0;

    for (i = 0; i < argc; i++) {
        len += sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN
               + (argvlen ? argvlen[i] : ngx_strlen(argv[i]));
    }

    return len;
}


u_char *
ngx_http_dukcapil_resp_args(u_char *p, ngx_uint_t argc, const char **argv,
    const size_t *argvlen)
{
    size_t      n;
    ngx_uint_t  i;

    for (i = 0; i < argc; i++) {
        n = argvlen ? argvlen[i] : ngx_strlen(argv[i]);

        *p++ = '$';
        p = ngx_http_dukcapil_resp_decimal(p, n);
        p = ngx_cpymem(p, argv[i], n);
        *p++ = CR;
        *p++ = LF;
    }

    return p;
}


/* n and CRLF */

static u_char *
ngx_http_dukcapil_resp_decimal(u_char *p, size_t n)
{
    p = ngx_http_dukcapil_decimal(p, (ngx_int_t) n);
    *p++ = CR;
    *p++ = LF;

    return p;
}


ngx_int_t
ngx_http_dukcapil_redis_integer(redisReply *reply, ngx_int_t *n)
{
    if (reply->type == REDIS_REPLY_INTEGER) {
        *n = (ngx_int_t) reply->integer;
        return NGX_OK;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (reply->type == REDIS_REPLY_STRING) {
        *n = ngx_atoi((u_char *) reply->str, reply->len);
        return (*n == NGX_ERROR) ? NGX_ERROR : NGX_OK;
    }

    return NGX_ERROR;
}


/* a reply handler for commands whose answer matters only when it fails */

void
ngx_http_dukcapil_redis_log_error(void *data, ngx_uint_t index,
    redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: redis answered \"%s\"", reply->str);
    }
}
