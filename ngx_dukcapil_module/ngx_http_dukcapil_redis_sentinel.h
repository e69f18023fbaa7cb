
/*
 * dukcapil_redis_sentinel: the Sentinels the worker asks for the Redis
 * master (ngx_http_dukcapil_redis_master.c), checked by nginx -t.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REDIS_SENTINEL_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REDIS_SENTINEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_conf.h"


char *ngx_http_dukcapil_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_DUKCAPIL_REDIS_SENTINEL_H_INCLUDED_ */
