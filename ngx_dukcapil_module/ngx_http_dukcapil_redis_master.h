
/*
 * Where the worker's Redis master is, and which history its data set
 * belongs to: the address of dukcapil_redis, or the one the Sentinels of
 * dukcapil_redis_sentinel name; either is used only once INFO replication
 * says it is a master.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REDIS_MASTER_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REDIS_MASTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/async.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_driver.h"
#include "ngx_http_dukcapil_redis_auth.h"


void ngx_http_dukcapil_master_init(ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_http_dukcapil_peer_t *peer, ngx_http_dukcapil_redis_up_pt up,
    ngx_http_dukcapil_redis_up_pt flush);
redisAsyncContext *ngx_http_dukcapil_master_connect(void);
ngx_str_t *ngx_http_dukcapil_master_name(void);
void ngx_http_dukcapil_master_handshake(redisAsyncContext *ac);
ngx_uint_t ngx_http_dukcapil_master_closed(void);
void ngx_http_dukcapil_master_refused(const char *err, size_t len);
void ngx_http_dukcapil_master_refresh(void);
ngx_uint_t ngx_http_dukcapil_master_unknown(void);
ngx_str_t *ngx_http_dukcapil_master_history(void);


#endif /* _NGX_HTTP_DUKCAPIL_REDIS_MASTER_H_INCLUDED_ */
