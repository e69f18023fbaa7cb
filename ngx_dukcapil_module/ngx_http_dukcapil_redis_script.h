
/*
 * The module's Redis scripts (lua/, built in): loaded when the
 * connection comes up, called by their SHA1, sent again as EVAL if Redis
 * has lost its script cache.  A script that decides many items per call
 * (book.lua) takes its items at the end of the event loop pass, in calls
 * of up to NGX_HTTP_DUKCAPIL_SCRIPT_BATCH: at the 07:00 rush a call costs
 * Redis several times what one more booking in it does.  Its answer, a
 * line per item, is read by domain/script_answer.h, which the items'
 * owners use too.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REDIS_SCRIPT_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REDIS_SCRIPT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_redis.h"
#include "script_answer.h"


/* items one script call decides at most: a call holds Redis for its time */
#define NGX_HTTP_DUKCAPIL_SCRIPT_BATCH  32


ngx_int_t ngx_http_dukcapil_script_init_process(ngx_cycle_t *cycle);
void ngx_http_dukcapil_script_load(void);
void ngx_http_dukcapil_script_calls(void);
ngx_int_t ngx_http_dukcapil_script(ngx_http_dukcapil_redis_op_t *op,
    ngx_uint_t script, ngx_uint_t nkeys, ngx_uint_t argc, const char **argv,
    const size_t *argvlen);


#endif /* _NGX_HTTP_DUKCAPIL_REDIS_SCRIPT_H_INCLUDED_ */
