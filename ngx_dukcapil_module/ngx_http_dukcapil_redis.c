
/*
 * hiredis <-> nginx event loop adapter, the per-worker Redis connection,
 * and the ops that wait on it.  The socket is registered level-triggered,
 * as hiredis's own adapters expect.  A command does not wait for the next
 * write event, though: the first one of an event loop iteration posts a
 * flush that runs once the iteration's events are handled, so the commands
 * of all the requests read in one iteration leave in one write, in that
 * same iteration; only a write the socket could not take whole waits for
 * the socket's write event.  The connection is never marked idle: a worker
 * that shuts down still answers the requests it has read, and closes it in
 * exit_process.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/async.h>

#include "ngx_http_dukcapil_redis.h"
#include "ngx_http_dukcapil_redis_master.h"
#include "ngx_http_dukcapil_resp.h"


typedef struct {
    ngx_http_dukcapil_peer_t          peer;
    redisAsyncContext                *ac;
    ngx_event_t                       flush;
    ngx_http_dukcapil_main_conf_t    *dmcf;
    ngx_http_dukcapil_redis_hook_pt   connected;
    ngx_http_dukcapil_redis_hook_pt   before_flush;
    /* commands sent and not answered yet: at most dukcapil_redis_queue */
    ngx_uint_t                        pending;
    unsigned                          full:1;
    unsigned                          writing:1;
    unsigned                          exiting:1;
} ngx_http_dukcapil_redis_t;


static void ngx_http_dukcapil_redis_connect(ngx_http_dukcapil_peer_t *peer);
static void ngx_http_dukcapil_redis_abort(ngx_http_dukcapil_peer_t *peer);
static void ngx_http_dukcapil_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_dukcapil_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_dukcapil_redis_read_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_write_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_add_read(void *privdata);
static void ngx_http_dukcapil_redis_del_read(void *privdata);
static void ngx_http_dukcapil_redis_add_write(void *privdata);
static void ngx_http_dukcapil_redis_del_write(void *privdata);
static void ngx_http_dukcapil_redis_cleanup(void *privdata);
static void ngx_http_dukcapil_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_dukcapil_redis_expire(ngx_http_dukcapil_op_t *op);
static void ngx_http_dukcapil_redis_free(ngx_http_dukcapil_op_t *op);
static void ngx_http_dukcapil_redis_finish(ngx_http_dukcapil_redis_op_t *op,
    ngx_int_t rc);


static ngx_http_dukcapil_redis_t  ngx_http_dukcapil_redis;


ngx_int_t
ngx_http_dukcapil_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_http_dukcapil_redis_hook_pt connected,
    ngx_http_dukcapil_redis_hook_pt flush)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    ngx_memzero(rd, sizeof(ngx_http_dukcapil_redis_t));

    rd->dmcf = dmcf;
    rd->connected = connected;
    rd->before_flush = flush;

    ngx_http_dukcapil_peer_init(&rd->peer, cycle->log);
    ngx_http_dukcapil_master_init(dmcf, &rd->peer, connected,
                                  ngx_http_dukcapil_redis_post_flush);

    rd->peer.name = "redis";
    rd->peer.connect_timeout = dmcf->redis_connect_timeout;
    rd->peer.connect = ngx_http_dukcapil_redis_connect;
    rd->peer.abort = ngx_http_dukcapil_redis_abort;
    rd->peer.read = ngx_http_dukcapil_redis_read_handler;
    rd->peer.write = ngx_http_dukcapil_redis_write_handler;
    rd->peer.data = rd;

    rd->flush.handler = ngx_http_dukcapil_redis_flush_handler;
    rd->flush.log = cycle->log;
    rd->flush.data = rd;

    ngx_http_dukcapil_redis_connect(&rd->peer);

    return NGX_OK;
}


void
ngx_http_dukcapil_redis_exit_process(void)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    rd->exiting = 1;
    ngx_http_dukcapil_peer_exit(&rd->peer);

    /* what waits for the flush is answered as a sent command would be */
    if (rd->before_flush) {
        rd->before_flush();
    }

    if (rd->flush.posted) {
        ngx_delete_posted_event(&rd->flush);
    }

    if (rd->ac) {
        redisAsyncFree(rd->ac);
    }

    ngx_http_dukcapil_resp_free();
}


static void
ngx_http_dukcapil_redis_connect(ngx_http_dukcapil_peer_t *peer)
{
    redisAsyncContext          *ac;
    ngx_http_dukcapil_redis_t  *rd;

    rd = peer->data;

    ac = ngx_http_dukcapil_master_connect();

    if (ac == NULL || ac->err
        || ngx_http_dukcapil_peer_attach(peer, ac->c.fd) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, peer->log, 0,
                      "dukcapil: redis connect to \"%V\" failed: %s",
                      ngx_http_dukcapil_master_name(),
                      ac ? (ac->err ? ac->errstr : "no connection")
                         : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }

        ngx_http_dukcapil_peer_down(peer,
                                    ngx_http_dukcapil_master_closed());
        return;
    }

    /* a Redis gone silent is noticed by the kernel too, not only by ops */
    if (ac->c.connection_type == REDIS_CONN_TCP
        && redisEnableKeepAlive(&ac->c) != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_WARN, peer->log, 0,
                      "dukcapil: redis keepalive not set: %s", ac->c.errstr);
    }

    rd->ac = ac;

    ac->data = rd;
    ac->ev.data = peer->connection;
    ac->ev.addRead = ngx_http_dukcapil_redis_add_read;
    ac->ev.delRead = ngx_http_dukcapil_redis_del_read;
    ac->ev.addWrite = ngx_http_dukcapil_redis_add_write;
    ac->ev.delWrite = ngx_http_dukcapil_redis_del_write;
    ac->ev.cleanup = ngx_http_dukcapil_redis_cleanup;

    redisAsyncSetDisconnectCallback(ac, ngx_http_dukcapil_redis_disconnected);

    /* hiredis waits for the first write event to call this */
    redisAsyncSetConnectCallback(ac, ngx_http_dukcapil_redis_connected);

    ngx_http_dukcapil_peer_connecting(peer);
}


/* the connect timed out: freeing the context ends in cleanup */

static void
ngx_http_dukcapil_redis_abort(ngx_http_dukcapil_peer_t *peer)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = peer->data;

    if (rd->ac) {
        redisAsyncFree(rd->ac);
    }
}


static void
ngx_http_dukcapil_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->peer.log, 0,
                      "dukcapil: redis connect to \"%V\" failed: %s",
                      ngx_http_dukcapil_master_name(), ac->errstr);
        return;
    }

    /* AUTH first, then a Sentinel's question or the master's role; the
     * scripts' SCRIPT LOAD and the requests once it is a master */
    ngx_http_dukcapil_master_handshake((redisAsyncContext *) ac);
}


static void
ngx_http_dukcapil_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->peer.log, 0,
                      "dukcapil: redis connection lost: %s", ac->errstr);
    }
}


/*
 * hiredis calls this just before it closes the socket and frees the
 * context, whatever the reason: the one place that forgets the connection
 * and plans the next one.  A flush still posted answers the items waiting
 * for it.
 */
static void
ngx_http_dukcapil_redis_cleanup(void *privdata)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    ngx_http_dukcapil_peer_detach(&rd->peer);

    rd->ac = NULL;

    ngx_http_dukcapil_peer_down(&rd->peer, ngx_http_dukcapil_master_closed());
}


static void
ngx_http_dukcapil_redis_read_handler(ngx_event_t *ev)
{
    redisAsyncHandleRead(ngx_http_dukcapil_redis.ac);
}


static void
ngx_http_dukcapil_redis_flush_handler(ngx_event_t *ev)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = ev->data;

    if (rd->before_flush) {
        rd->before_flush();
    }

    /* the commands just made leave in the write below */
    if (rd->flush.posted) {
        ngx_delete_posted_event(&rd->flush);
    }

    if (rd->ac) {
        ngx_http_dukcapil_redis_write_handler(ev);
    }
}


/* the socket's write event, and the flush at the end of a loop pass */

static void
ngx_http_dukcapil_redis_write_handler(ngx_event_t *ev)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    /* a write interest asked for in here waits for the socket */
    rd->writing = 1;

    redisAsyncHandleWrite(rd->ac);

    rd->writing = 0;
}


static void
ngx_http_dukcapil_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    (void) ngx_http_dukcapil_peer_interest(&ngx_http_dukcapil_redis.peer, 1,
                                           c->write->active);
}


static void
ngx_http_dukcapil_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    (void) ngx_http_dukcapil_peer_interest(&ngx_http_dukcapil_redis.peer, 0,
                                           c->write->active);
}


static void
ngx_http_dukcapil_redis_add_write(void *privdata)
{
    ngx_connection_t           *c = privdata;
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    if (rd->peer.state == NGX_HTTP_DUKCAPIL_PEER_UP && !rd->writing
        && !c->write->active)
    {
        ngx_http_dukcapil_redis_post_flush();
        return;
    }

    (void) ngx_http_dukcapil_peer_interest(&rd->peer, c->read->active, 1);
}


static void
ngx_http_dukcapil_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    (void) ngx_http_dukcapil_peer_interest(&ngx_http_dukcapil_redis.peer,
                                           c->read->active, 0);
}


/* what is queued in this loop pass leaves at its end, in one write */

void
ngx_http_dukcapil_redis_post_flush(void)
{
    if (!ngx_http_dukcapil_redis.flush.posted) {
        ngx_post_event(&ngx_http_dukcapil_redis.flush, &ngx_posted_events);
    }
}


ngx_http_dukcapil_redis_op_t *
ngx_http_dukcapil_redis_op(ngx_http_dukcapil_redis_reply_pt reply,
    ngx_http_dukcapil_redis_done_pt done, void *data)
{
    ngx_http_dukcapil_redis_op_t  *op;

    op = ngx_calloc(sizeof(ngx_http_dukcapil_redis_op_t), ngx_cycle->log);
    if (op == NULL) {
        return NULL;
    }

    ngx_http_dukcapil_op_init(&op->op, ngx_http_dukcapil_redis_expire,
                              ngx_http_dukcapil_redis_free);

    op->reply = reply;
    op->done = done;
    op->data = data;

    return op;
}


ngx_int_t
ngx_http_dukcapil_redis_command(ngx_http_dukcapil_redis_op_t *op,
    ngx_uint_t argc, const char **argv, const size_t *argvlen)
{
    u_char  *buf, *p;

    if (ngx_http_dukcapil_redis_usable(op) != NGX_OK) {
        return NGX_ERROR;
    }

    buf = ngx_http_dukcapil_resp_buffer(NGX_HTTP_DUKCAPIL_RESP_HEAD
                        + ngx_http_dukcapil_resp_size(argc, argv, argvlen));
    if (buf == NULL) {
        op->failed = 1;
        return NGX_ERROR;
    }

    p = ngx_http_dukcapil_resp_head(buf, argc);
    p = ngx_http_dukcapil_resp_args(p, argc, argv, argvlen);

    return ngx_http_dukcapil_redis_send(op, buf, p);
}


/*
 * Nothing is formatted for a connection that cannot take it: one down, or
 * one that holds dukcapil_redis_queue commands without an answer already
 * (a Redis that went silent: waiting longer cannot help, 503 at once).
 */
ngx_int_t
ngx_http_dukcapil_redis_usable(ngx_http_dukcapil_redis_op_t *op)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    if (rd->pending >= rd->dmcf->redis_queue && !op->failed) {
        if (!rd->full) {
            ngx_log_error(NGX_LOG_ERR, rd->peer.log, 0,
                          "dukcapil: redis has %ui commands unanswered, "
                          "failing new ones at once", rd->pending);
            rd->full = 1;
        }

        op->failed = 1;
    }

    if (op->failed || rd->peer.state != NGX_HTTP_DUKCAPIL_PEER_UP
        || rd->exiting)
    {
        op->failed = 1;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a command in RESP, from cmd to last, with room for a NUL after it */

ngx_int_t
ngx_http_dukcapil_redis_send(ngx_http_dukcapil_redis_op_t *op, u_char *cmd,
    u_char *last)
{
    /* hiredis looks at the byte after a command's first argument */
    *last = '\0';

    if (redisAsyncFormattedCommand(ngx_http_dukcapil_redis.ac,
                                   ngx_http_dukcapil_redis_reply, op,
                                   (char *) cmd, last - cmd)
        != REDIS_OK)
    {
        op->failed = 1;
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "dukcapil redis: op %p sends command %ui", op, op->sent);

    op->sent++;
    op->op.outstanding++;
    ngx_http_dukcapil_redis.pending++;

    return NGX_OK;
}


ngx_int_t
ngx_http_dukcapil_redis_wait(ngx_http_dukcapil_redis_op_t *op)
{
    if (op->failed || op->sent == 0) {
        ngx_http_dukcapil_redis_cancel(op);
        return NGX_ERROR;
    }

    ngx_http_dukcapil_op_wait(&op->op,
                              ngx_http_dukcapil_redis.dmcf->redis_timeout);

    return NGX_OK;
}


void
ngx_http_dukcapil_redis_cancel(ngx_http_dukcapil_redis_op_t *op)
{
    ngx_http_dukcapil_op_cancel(&op->op);
}


static void
ngx_http_dukcapil_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    rd->pending--;

    if (rd->full && rd->pending < rd->dmcf->redis_queue / 2) {
        rd->full = 0;
    }

    ngx_http_dukcapil_redis_answer(privdata, reply);

    if (reply && ((redisReply *) reply)->type == REDIS_REPLY_ERROR) {
        ngx_http_dukcapil_master_refused(((redisReply *) reply)->str,
                                         ((redisReply *) reply)->len);
    }
}


/* one answer to an op: rr is NULL when the command got none */

void
ngx_http_dukcapil_redis_answer(ngx_http_dukcapil_redis_op_t *op,
    redisReply *rr)
{
    if (ngx_http_dukcapil_op_answered(&op->op) != NGX_OK) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "dukcapil redis: op %p answer %ui, type %d", op,
                   op->received, rr ? rr->type : 0);

    if (rr == NULL) {
        ngx_http_dukcapil_redis_finish(op, NGX_ERROR);
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR && op->noscript
        && ngx_strncmp(rr->str, "NOSCRIPT", 8) == 0)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "dukcapil: redis lost its script cache, sending EVAL");

        op->sent--;

        if (op->noscript(op) != NGX_OK) {
            ngx_http_dukcapil_redis_finish(op, NGX_ERROR);
        }

        return;
    }

    op->reply(op->data, op->received++, rr);

    if (op->received == op->sent) {
        ngx_http_dukcapil_redis_finish(op, NGX_OK);
    }
}


static void
ngx_http_dukcapil_redis_expire(ngx_http_dukcapil_op_t *op)
{
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, NGX_ETIMEDOUT,
                  "dukcapil: redis timed out");

    ngx_http_dukcapil_redis_finish((ngx_http_dukcapil_redis_op_t *) op,
                                   NGX_ERROR);
}


static void
ngx_http_dukcapil_redis_free(ngx_http_dukcapil_op_t *op)
{
    ngx_http_dukcapil_redis_op_t  *rop = (ngx_http_dukcapil_redis_op_t *) op;

    if (rop->args.data) {
        ngx_free(rop->args.data);
    }

    ngx_free(rop);
}


static void
ngx_http_dukcapil_redis_finish(ngx_http_dukcapil_redis_op_t *op,
    ngx_int_t rc)
{
    void                             *data;
    ngx_http_dukcapil_redis_done_pt   done;

    done = op->done;
    data = op->data;

    ngx_http_dukcapil_redis_cancel(op);

    if (done) {                     /* NULL: no one waits */
        done(data, rc);
    }
}
