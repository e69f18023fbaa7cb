
/*
 * One pipelined Redis connection per worker, driven by hiredis's async API
 * on nginx's event loop.  Requests wait on it through an op that has a
 * timeout of its own and is detached when the request goes away.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REDIS_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_driver.h"
#include "ngx_http_dukcapil_resp.h"


typedef struct ngx_http_dukcapil_redis_op_s  ngx_http_dukcapil_redis_op_t;

/* called for every reply, in the order the commands were sent */
typedef void (*ngx_http_dukcapil_redis_reply_pt)(void *data, ngx_uint_t index,
    redisReply *reply);

/* called once: NGX_OK after the last reply, NGX_ERROR on a failure; NULL
 * for a command no one waits for */
typedef void (*ngx_http_dukcapil_redis_done_pt)(void *data, ngx_int_t rc);

/* the connection came up; the loop pass is about to write */
typedef void (*ngx_http_dukcapil_redis_hook_pt)(void);

/* sends an op again after a NOSCRIPT answer */
typedef ngx_int_t (*ngx_http_dukcapil_redis_resend_pt)(
    ngx_http_dukcapil_redis_op_t *op);


/*
 * An op is one batch of pipelined commands with one timeout.  It lives on
 * the heap until hiredis has answered every command it sent, so a late
 * reply never touches freed memory; its owner may cancel it at any time
 * and is then never called again.
 */
struct ngx_http_dukcapil_redis_op_s {
    ngx_http_dukcapil_op_t              op;

    ngx_http_dukcapil_redis_reply_pt    reply;
    ngx_http_dukcapil_redis_done_pt     done;
    void                               *data;

    ngx_uint_t                          sent;
    ngx_uint_t                          received;

    /*
     * A script call's (ngx_http_dukcapil_redis_script.c): its keys, then
     * its arguments, in RESP on the heap, kept to be sent again as EVAL
     * or laid in one call with other items of the loop pass.
     */
    ngx_uint_t                          script;
    ngx_uint_t                          nkeys;
    ngx_uint_t                          argc;
    size_t                              keys_len;
    ngx_str_t                           args;
    ngx_queue_t                         queue;
    ngx_http_dukcapil_redis_resend_pt   noscript;

    unsigned                            failed:1;
};


ngx_int_t ngx_http_dukcapil_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_http_dukcapil_redis_hook_pt connected,
    ngx_http_dukcapil_redis_hook_pt flush);
void ngx_http_dukcapil_redis_exit_process(void);

ngx_http_dukcapil_redis_op_t *ngx_http_dukcapil_redis_op(
    ngx_http_dukcapil_redis_reply_pt reply,
    ngx_http_dukcapil_redis_done_pt done, void *data);
ngx_int_t ngx_http_dukcapil_redis_command(ngx_http_dukcapil_redis_op_t *op,
    ngx_uint_t argc, const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_dukcapil_redis_usable(ngx_http_dukcapil_redis_op_t *op);
ngx_int_t ngx_http_dukcapil_redis_send(ngx_http_dukcapil_redis_op_t *op,
    u_char *cmd, u_char *last);
void ngx_http_dukcapil_redis_post_flush(void);
void ngx_http_dukcapil_redis_answer(ngx_http_dukcapil_redis_op_t *op,
    redisReply *rr);
ngx_int_t ngx_http_dukcapil_redis_wait(ngx_http_dukcapil_redis_op_t *op);
void ngx_http_dukcapil_redis_cancel(ngx_http_dukcapil_redis_op_t *op);


#endif /* _NGX_HTTP_DUKCAPIL_REDIS_H_INCLUDED_ */
