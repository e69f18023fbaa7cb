
/*
 * The credentials Redis asks for (dukcapil_redis_auth): read from their
 * file with the configuration, so that nginx -t checks them, and kept in
 * memory only; given first on every connection, the rest pipelined behind.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REDIS_AUTH_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REDIS_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/async.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_driver.h"


/* the connection takes commands: the scripts' connected hook */
typedef void (*ngx_http_dukcapil_redis_up_pt)(void);


char *ngx_http_dukcapil_redis_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_dukcapil_credentials_read(ngx_conf_t *cf,
    const char *directive, ngx_str_t *file, u_char *buf, size_t max,
    ssize_t *n);
ngx_int_t ngx_http_dukcapil_redis_authenticate(redisAsyncContext *ac,
    ngx_str_t *creds);


#endif /* _NGX_HTTP_DUKCAPIL_REDIS_AUTH_H_INCLUDED_ */
