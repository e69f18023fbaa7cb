
/*
 * Redis commands in RESP, formatted by the module: hiredis's own
 * formatting grows a string argument by argument, a reallocation and a
 * format parse each, on the busiest path there is (BENCHMARKS.md).
 * And replies, as hiredis parsed them, read.
 */


#ifndef _NGX_HTTP_DUKCAPIL_RESP_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_RESP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>


/* the room for "*<argc>\r\n" */
#define NGX_HTTP_DUKCAPIL_RESP_HEAD  (sizeof("*\r\n") - 1 + NGX_INT_T_LEN)


u_char *ngx_http_dukcapil_resp_buffer(size_t len);
void ngx_http_dukcapil_resp_free(void);
u_char *ngx_http_dukcapil_resp_head(u_char *p, ngx_uint_t argc);
size_t ngx_http_dukcapil_resp_size(ngx_uint_t argc, const char **argv,
    const size_t *argvlen);
u_char *ngx_http_dukcapil_resp_args(u_char *p, ngx_uint_t argc,
    const char **argv, const size_t *argvlen);

ngx_int_t ngx_http_dukcapil_redis_integer(redisReply *reply, ngx_int_t *n);
void ngx_http_dukcapil_redis_log_error(void *data, ngx_uint_t index,
    redisReply *reply);


#endif /* _NGX_HTTP_DUKCAPIL_RESP_H_INCLUDED_ */
