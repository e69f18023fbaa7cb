
/*
 * One pipelined Redis connection per worker, driven by hiredis's async API
 * on nginx's event loop.  Requests wait on it through an op that has a
 * timeout of its own and is detached when the request goes away.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REDIS_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <hiredis/hiredis.h>

#include "ngx_http_dukcapil_module.h"


typedef enum {
    NGX_HTTP_DUKCAPIL_LUA_BOOK = 0,
    NGX_HTTP_DUKCAPIL_LUA_RELEASE,
    NGX_HTTP_DUKCAPIL_LUA_N
} ngx_http_dukcapil_lua_e;


/* called for every reply, in the order the commands were sent */
typedef void (*ngx_http_dukcapil_redis_reply_pt)(void *data, ngx_uint_t index,
    redisReply *reply);

/* called once: NGX_OK after the last reply, NGX_ERROR on a failure */
typedef void (*ngx_http_dukcapil_redis_done_pt)(void *data, ngx_int_t rc);


/*
 * An op is one batch of pipelined commands with one timeout.  It lives on
 * the heap until hiredis has answered every command it sent, so a late
 * reply never touches freed memory; its owner may cancel it at any time
 * and is then never called again.
 *
 * An op running a script that decides many items per call (book.lua) is
 * an item: it waits in its script's queue until the end of the event loop
 * pass, and is then sent in one call with the other items of that pass.
 * The call is an op of its own, which hands each item its line of the
 * answer.
 */
struct ngx_http_dukcapil_redis_op_s {
    ngx_event_t                        timeout;

    ngx_http_dukcapil_redis_reply_pt   reply;
    ngx_http_dukcapil_redis_done_pt    done;
    void                              *data;

    ngx_uint_t                         sent;
    ngx_uint_t                         received;
    ngx_uint_t                         outstanding;

    /* a script's keys, then its arguments, in RESP on the heap: kept to be
     * sent again as EVAL if Redis answers NOSCRIPT, or to be laid in one
     * call with other items */
    ngx_uint_t                         script;
    ngx_uint_t                         nkeys;
    ngx_uint_t                         argc;
    size_t                             keys_len;
    ngx_str_t                          args;

    /* an item waiting for the end of the event loop pass */
    ngx_queue_t                        queue;

    unsigned                           item:1;
    unsigned                           finished:1;
    unsigned                           failed:1;
};


ngx_int_t ngx_http_dukcapil_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf);
void ngx_http_dukcapil_redis_exit_process(ngx_cycle_t *cycle);

ngx_http_dukcapil_redis_op_t *ngx_http_dukcapil_redis_op(
    ngx_http_dukcapil_redis_reply_pt reply,
    ngx_http_dukcapil_redis_done_pt done, void *data);
ngx_int_t ngx_http_dukcapil_redis_command(ngx_http_dukcapil_redis_op_t *op,
    int argc, const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_dukcapil_redis_script(ngx_http_dukcapil_redis_op_t *op,
    ngx_uint_t script, ngx_uint_t nkeys, ngx_uint_t argc, const char **argv,
    const size_t *argvlen);
ngx_int_t ngx_http_dukcapil_redis_wait(ngx_http_dukcapil_redis_op_t *op);
void ngx_http_dukcapil_redis_cancel(ngx_http_dukcapil_redis_op_t *op);

ngx_int_t ngx_http_dukcapil_redis_integer(redisReply *reply, ngx_int_t *n);


#endif /* _NGX_HTTP_DUKCAPIL_REDIS_H_INCLUDED_ */
