
/*
 * hiredis <-> nginx event loop adapter and the per-worker Redis connection.
 *
 * The socket is registered level-triggered, the way hiredis's own adapters
 * expect: hiredis reads one buffer per call and asks for write interest
 * until its output buffer is empty.  A command does not wait for the next
 * write event, though: the first one of an event loop iteration posts a
 * flush that runs once the iteration's events are handled, so the
 * commands of all the requests read in one iteration leave in one write,
 * in that same iteration.  Only a write the socket could not take whole
 * waits for the socket's write event.
 *
 * A script that decides many items per call (book.lua) is not sent at
 * once: its items wait in the script's queue, and the same flush sends
 * them, up to NGX_HTTP_DUKCAPIL_REDIS_BATCH per call.  At the 07:00 rush
 * a call costs Redis several times what one more booking in it does.
 *
 * The connection is never marked idle: a worker that shuts down still
 * answers the requests it has read, and closes it in exit_process.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <hiredis/async.h>
#include <openssl/evp.h>

#include "ngx_http_dukcapil_redis.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_lua.h"


#define NGX_HTTP_DUKCAPIL_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_DUKCAPIL_REDIS_BACKOFF_MAX  2000

/* items one script call decides at most: a call holds Redis for its time */
#define NGX_HTTP_DUKCAPIL_REDIS_BATCH  32

/* the room for "*<argc>\r\n" */
#define NGX_HTTP_DUKCAPIL_REDIS_HEAD  (sizeof("*\r\n") - 1 + NGX_INT_T_LEN)


typedef struct {
    redisAsyncContext              *ac;
    ngx_connection_t               *connection;
    ngx_event_t                     connect_timer;
    ngx_event_t                     reconnect;
    ngx_event_t                     flush;
    ngx_msec_t                      backoff;
    ngx_log_t                      *log;
    ngx_http_dukcapil_main_conf_t  *dmcf;
    unsigned                        ready:1;
    unsigned                        writing:1;
    unsigned                        exiting:1;
} ngx_http_dukcapil_redis_t;


typedef struct {
    const char                     *text;
    /* decides many items per call; otherwise one op, one call */
    ngx_uint_t                      batched;
    char                            sha[41];
    /* items waiting for the end of the event loop pass */
    ngx_queue_t                     items;
} ngx_http_dukcapil_script_t;


/* one call of items: the data of the op that sends it */
typedef struct {
    ngx_uint_t                      n;
    ngx_http_dukcapil_redis_op_t   *items[NGX_HTTP_DUKCAPIL_REDIS_BATCH];
    unsigned                        answered:1;
} ngx_http_dukcapil_redis_call_t;


static void ngx_http_dukcapil_redis_connect(void);
static void ngx_http_dukcapil_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_dukcapil_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_dukcapil_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_read_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_write_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_write(ngx_http_dukcapil_redis_t *rd);
static void ngx_http_dukcapil_redis_add_read(void *privdata);
static void ngx_http_dukcapil_redis_del_read(void *privdata);
static void ngx_http_dukcapil_redis_add_write(void *privdata);
static void ngx_http_dukcapil_redis_del_write(void *privdata);
static void ngx_http_dukcapil_redis_cleanup(void *privdata);
static void ngx_http_dukcapil_redis_script_loaded(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_dukcapil_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_dukcapil_redis_answer(ngx_http_dukcapil_redis_op_t *op,
    redisReply *rr);
static void ngx_http_dukcapil_redis_calls(void);
static void ngx_http_dukcapil_redis_call(ngx_http_dukcapil_script_t *s);
static void ngx_http_dukcapil_redis_call_reply(void *data, ngx_uint_t index,
    redisReply *rr);
static void ngx_http_dukcapil_redis_call_done(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_dukcapil_redis_eval(
    ngx_http_dukcapil_redis_op_t *op, const char *verb, const char *script);
static ngx_int_t ngx_http_dukcapil_redis_usable(
    ngx_http_dukcapil_redis_op_t *op);
static ngx_int_t ngx_http_dukcapil_redis_send(ngx_http_dukcapil_redis_op_t *op,
    u_char *cmd, u_char *last);
static u_char *ngx_http_dukcapil_redis_buffer(size_t len);
static u_char *ngx_http_dukcapil_redis_head(u_char *p, int argc);
static size_t ngx_http_dukcapil_redis_args_size(int argc, const char **argv,
    const size_t *argvlen);
static u_char *ngx_http_dukcapil_redis_args(u_char *p, int argc,
    const char **argv, const size_t *argvlen);
static u_char *ngx_http_dukcapil_redis_decimal(u_char *p, size_t n);
static void ngx_http_dukcapil_redis_op_free(ngx_http_dukcapil_redis_op_t *op);
static void ngx_http_dukcapil_redis_op_timeout(ngx_event_t *ev);
static void ngx_http_dukcapil_redis_finish(ngx_http_dukcapil_redis_op_t *op,
    ngx_int_t rc);


static ngx_http_dukcapil_redis_t  ngx_http_dukcapil_redis;

/* where a command is formatted: it grows to the longest sent, never shrinks */
static ngx_str_t  ngx_http_dukcapil_redis_buf;

static ngx_http_dukcapil_script_t  ngx_http_dukcapil_scripts[] = {
    { ngx_http_dukcapil_lua_book, 1, "",
      { NULL, NULL } },
    { ngx_http_dukcapil_lua_release, 0, "", { NULL, NULL } },
};


ngx_int_t
ngx_http_dukcapil_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf)
{
    u_char                       md[EVP_MAX_MD_SIZE];
    ngx_uint_t                   i;
    unsigned int                 len;
    ngx_http_dukcapil_script_t  *s;
    ngx_http_dukcapil_redis_t   *rd;

    rd = &ngx_http_dukcapil_redis;

    ngx_memzero(rd, sizeof(ngx_http_dukcapil_redis_t));

    rd->log = cycle->log;
    rd->dmcf = dmcf;
    rd->backoff = NGX_HTTP_DUKCAPIL_REDIS_BACKOFF_MIN;

    for (i = 0; i < NGX_HTTP_DUKCAPIL_LUA_N; i++) {
        s = &ngx_http_dukcapil_scripts[i];

        if (EVP_Digest(s->text, ngx_strlen(s->text), md, &len, EVP_sha1(),
                       NULL)
            != 1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "dukcapil: SHA1 of a Redis script failed");
            return NGX_ERROR;
        }

        ngx_hex_dump((u_char *) s->sha, md, len);
        s->sha[40] = '\0';

        ngx_queue_init(&s->items);
    }

    rd->connect_timer.handler = ngx_http_dukcapil_redis_connect_timeout;
    rd->connect_timer.log = cycle->log;
    rd->connect_timer.data = rd;
    rd->connect_timer.cancelable = 1;

    rd->reconnect.handler = ngx_http_dukcapil_redis_reconnect_handler;
    rd->reconnect.log = cycle->log;
    rd->reconnect.data = rd;
    rd->reconnect.cancelable = 1;

    rd->flush.handler = ngx_http_dukcapil_redis_flush_handler;
    rd->flush.log = cycle->log;
    rd->flush.data = rd;

    ngx_http_dukcapil_redis_connect();

    return NGX_OK;
}


void
ngx_http_dukcapil_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    rd->exiting = 1;

    /* an item still waiting is answered as hiredis answers a sent command */
    ngx_http_dukcapil_redis_calls();

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    if (rd->ac) {
        redisAsyncFree(rd->ac);
    }

    if (ngx_http_dukcapil_redis_buf.data) {
        ngx_free(ngx_http_dukcapil_redis_buf.data);
        ngx_str_null(&ngx_http_dukcapil_redis_buf);
    }
}


static void
ngx_http_dukcapil_redis_connect(void)
{
    ngx_connection_t               *c;
    redisAsyncContext              *ac;
    ngx_http_dukcapil_redis_t      *rd;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    rd = &ngx_http_dukcapil_redis;
    dmcf = rd->dmcf;

    if (dmcf->redis_port) {
        ac = redisAsyncConnect((char *) dmcf->redis_host.data,
                               dmcf->redis_port);
    } else {
        ac = redisAsyncConnectUnix((char *) dmcf->redis_host.data);
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "dukcapil: redis connect to \"%V\" failed: %s",
                      &dmcf->redis_host, ac ? ac->errstr : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }
        goto retry;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        goto retry;
    }

    c->data = rd;
    c->read->handler = ngx_http_dukcapil_redis_read_handler;
    c->write->handler = ngx_http_dukcapil_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->ac = ac;
    rd->connection = c;

    ac->data = rd;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_dukcapil_redis_add_read;
    ac->ev.delRead = ngx_http_dukcapil_redis_del_read;
    ac->ev.addWrite = ngx_http_dukcapil_redis_add_write;
    ac->ev.delWrite = ngx_http_dukcapil_redis_del_write;
    ac->ev.cleanup = ngx_http_dukcapil_redis_cleanup;

    redisAsyncSetDisconnectCallback(ac, ngx_http_dukcapil_redis_disconnected);

    /* hiredis waits for the first write event to call this */
    redisAsyncSetConnectCallback(ac, ngx_http_dukcapil_redis_connected);

    ngx_add_timer(&rd->connect_timer, dmcf->redis_connect_timeout);

    return;

retry:

    if (!rd->exiting && !rd->reconnect.timer_set) {
        ngx_add_timer(&rd->reconnect, rd->backoff);
        rd->backoff = ngx_min(rd->backoff * 2,
                              NGX_HTTP_DUKCAPIL_REDIS_BACKOFF_MAX);
    }
}


static void
ngx_http_dukcapil_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_uint_t                  i;
    const char                 *argv[3];
    ngx_http_dukcapil_redis_t  *rd;

    rd = ac->data;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "dukcapil: redis connect to \"%V\" failed: %s",
                      &rd->dmcf->redis_host, ac->errstr);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "dukcapil: redis connected to \"%V\"",
                  &rd->dmcf->redis_host);

    rd->ready = 1;
    rd->backoff = NGX_HTTP_DUKCAPIL_REDIS_BACKOFF_MIN;

    argv[0] = "SCRIPT";
    argv[1] = "LOAD";

    for (i = 0; i < NGX_HTTP_DUKCAPIL_LUA_N; i++) {
        argv[2] = ngx_http_dukcapil_scripts[i].text;
        redisAsyncCommandArgv(rd->ac, ngx_http_dukcapil_redis_script_loaded,
                              (void *) i, 3, argv, NULL);
    }
}


static void
ngx_http_dukcapil_redis_script_loaded(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_uint_t                  i;
    redisReply                 *rr;
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;
    rr = reply;
    i = (ngx_uint_t) privdata;

    if (rr == NULL) {
        return;
    }

    if (rr->type != REDIS_REPLY_STRING
        || ngx_strcmp(rr->str, ngx_http_dukcapil_scripts[i].sha) != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                      "dukcapil: redis SCRIPT LOAD answered \"%s\"",
                      rr->str ? rr->str : "");
    }
}


static void
ngx_http_dukcapil_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "dukcapil: redis connection lost: %s", ac->errstr);
    }
}


static void
ngx_http_dukcapil_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = ev->data;

    ngx_log_error(NGX_LOG_ERR, rd->log, NGX_ETIMEDOUT,
                  "dukcapil: redis connect to \"%V\" timed out",
                  &rd->dmcf->redis_host);

    if (rd->ac) {
        redisAsyncFree(rd->ac);
    }
}


static void
ngx_http_dukcapil_redis_reconnect_handler(ngx_event_t *ev)
{
    if (ngx_exiting) {
        return;
    }

    ngx_http_dukcapil_redis_connect();
}


static void
ngx_http_dukcapil_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_dukcapil_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    redisAsyncHandleRead(rd->ac);
}


static void
ngx_http_dukcapil_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    ngx_http_dukcapil_redis_write(c->data);
}


static void
ngx_http_dukcapil_redis_flush_handler(ngx_event_t *ev)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = ev->data;

    ngx_http_dukcapil_redis_calls();

    /* the calls just made leave in the write below */
    if (rd->flush.posted) {
        ngx_delete_posted_event(&rd->flush);
    }

    if (rd->ac) {
        ngx_http_dukcapil_redis_write(rd);
    }
}


static void
ngx_http_dukcapil_redis_write(ngx_http_dukcapil_redis_t *rd)
{
    /* a write interest asked for in here waits for the socket */
    rd->writing = 1;

    redisAsyncHandleWrite(rd->ac);

    rd->writing = 0;
}


static void
ngx_http_dukcapil_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->read->active) {
        (void) ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_dukcapil_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_dukcapil_redis_add_write(void *privdata)
{
    ngx_connection_t           *c = privdata;
    ngx_http_dukcapil_redis_t  *rd;

    rd = c->data;

    if (rd->ready && !rd->writing && !c->write->active) {
        if (!rd->flush.posted) {
            ngx_post_event(&rd->flush, &ngx_posted_events);
        }

        return;
    }

    if (!c->write->active) {
        (void) ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_dukcapil_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis calls this just before it closes the socket and frees the
 * context, whatever the reason: the one place that forgets the connection
 * and plans the next one.
 */
static void
ngx_http_dukcapil_redis_cleanup(void *privdata)
{
    ngx_connection_t           *c = privdata;
    ngx_http_dukcapil_redis_t  *rd;

    rd = c->data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* a flush still posted answers the items waiting for it */

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    rd->ac = NULL;
    rd->connection = NULL;
    rd->ready = 0;

    if (!rd->exiting && !ngx_exiting && !rd->reconnect.timer_set) {
        ngx_add_timer(&rd->reconnect, rd->backoff);
        rd->backoff = ngx_min(rd->backoff * 2,
                              NGX_HTTP_DUKCAPIL_REDIS_BACKOFF_MAX);
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

    op->reply = reply;
    op->done = done;
    op->data = data;

    op->timeout.handler = ngx_http_dukcapil_redis_op_timeout;
    op->timeout.data = op;
    op->timeout.log = ngx_cycle->log;

    return op;
}


ngx_int_t
ngx_http_dukcapil_redis_command(ngx_http_dukcapil_redis_op_t *op, int argc,
    const char **argv, const size_t *argvlen)
{
    u_char  *buf, *p;
    size_t   len;

    if (ngx_http_dukcapil_redis_usable(op) != NGX_OK) {
        return NGX_ERROR;
    }

    len = NGX_HTTP_DUKCAPIL_REDIS_HEAD
          + ngx_http_dukcapil_redis_args_size(argc, argv, argvlen);

    buf = ngx_http_dukcapil_redis_buffer(len);
    if (buf == NULL) {
        op->failed = 1;
        return NGX_ERROR;
    }

    p = ngx_http_dukcapil_redis_head(buf, argc);
    p = ngx_http_dukcapil_redis_args(p, argc, argv, argvlen);

    return ngx_http_dukcapil_redis_send(op, buf, p);
}


/*
 * One of the module's scripts, argv being its nkeys keys, then its other
 * arguments.  They are kept in the op, formatted, so argv need not
 * outlive this call: if Redis has lost its script cache, the same command
 * goes again as EVAL with the script's text.  A script that decides many
 * items per call takes this op as an item, sent at the end of the pass.
 */
ngx_int_t
ngx_http_dukcapil_redis_script(ngx_http_dukcapil_redis_op_t *op,
    ngx_uint_t script, ngx_uint_t nkeys, ngx_uint_t argc, const char **argv,
    const size_t *argvlen)
{
    u_char                      *p;
    ngx_http_dukcapil_redis_t   *rd;
    ngx_http_dukcapil_script_t  *s;

    if (ngx_http_dukcapil_redis_usable(op) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_alloc(ngx_http_dukcapil_redis_args_size(argc, argv, argvlen),
                  ngx_cycle->log);
    if (p == NULL) {
        op->failed = 1;
        return NGX_ERROR;
    }

    op->script = script;
    op->nkeys = nkeys;
    op->argc = argc;
    op->args.data = p;

    p = ngx_http_dukcapil_redis_args(p, nkeys, argv, argvlen);
    op->keys_len = p - op->args.data;

    p = ngx_http_dukcapil_redis_args(p, argc - nkeys, argv + nkeys,
                                     argvlen ? argvlen + nkeys : NULL);
    op->args.len = p - op->args.data;

    s = &ngx_http_dukcapil_scripts[script];

    if (!s->batched) {
        if (ngx_http_dukcapil_redis_eval(op, "EVALSHA", s->sha) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_dukcapil_metrics_script_call(script);

        return NGX_OK;
    }

    rd = &ngx_http_dukcapil_redis;

    op->item = 1;
    op->sent = 1;
    op->outstanding = 1;

    ngx_queue_insert_tail(&s->items, &op->queue);

    if (!rd->flush.posted) {
        ngx_post_event(&rd->flush, &ngx_posted_events);
    }

    return NGX_OK;
}


/* every waiting item, in calls; items queued meanwhile go too */

static void
ngx_http_dukcapil_redis_calls(void)
{
    ngx_uint_t                   i;
    ngx_http_dukcapil_script_t  *s;

    for (i = 0; i < NGX_HTTP_DUKCAPIL_LUA_N; i++) {
        s = &ngx_http_dukcapil_scripts[i];

        while (!ngx_queue_empty(&s->items)) {
            ngx_http_dukcapil_redis_call(s);
        }
    }
}


/*
 * Up to a call's worth of a script's waiting items, in one call: their
 * keys, then their arguments, each in the order the items came.
 */
static void
ngx_http_dukcapil_redis_call(ngx_http_dukcapil_script_t *s)
{
    u_char                          *p;
    size_t                           len;
    ngx_uint_t                       i, n, nkeys, argc;
    ngx_queue_t                     *q;
    ngx_http_dukcapil_redis_op_t    *op, *item;
    ngx_http_dukcapil_redis_call_t  *call;
    ngx_http_dukcapil_redis_op_t    *items[NGX_HTTP_DUKCAPIL_REDIS_BATCH];

    n = 0;
    len = 0;
    nkeys = 0;
    argc = 0;

    while (n < NGX_HTTP_DUKCAPIL_REDIS_BATCH && !ngx_queue_empty(&s->items)) {
        q = ngx_queue_head(&s->items);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_dukcapil_redis_op_t, queue);

        if (item->finished) {
            /* its owner stopped waiting before it was sent: it takes nothing */
            ngx_http_dukcapil_redis_op_free(item);
            continue;
        }

        items[n++] = item;
        len += item->args.len;
        nkeys += item->nkeys;
        argc += item->argc;
    }

    if (n == 0) {
        return;
    }

    op = NULL;
    p = NULL;

    call = ngx_alloc(sizeof(ngx_http_dukcapil_redis_call_t), ngx_cycle->log);
    if (call == NULL) {
        goto failed;
    }

    call->n = n;
    call->answered = 0;
    ngx_memcpy(call->items, items, n * sizeof(ngx_http_dukcapil_redis_op_t *));

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_redis_call_reply,
                                    ngx_http_dukcapil_redis_call_done, call);
    if (op == NULL) {
        goto failed;
    }

    p = ngx_alloc(len, ngx_cycle->log);
    if (p == NULL) {
        goto failed;
    }

    op->script = s - ngx_http_dukcapil_scripts;
    op->nkeys = nkeys;
    op->argc = argc;
    op->args.data = p;
    op->args.len = len;

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, items[i]->args.data, items[i]->keys_len);
    }

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, items[i]->args.data + items[i]->keys_len,
                       items[i]->args.len - items[i]->keys_len);
    }

    /*
     * The call has no timer of its own: each item has its own, and the
     * call lives until hiredis answers it or drops the connection.
     */
    if (ngx_http_dukcapil_redis_eval(op, "EVALSHA", s->sha) != NGX_OK) {
        ngx_http_dukcapil_redis_op_free(op);
        ngx_http_dukcapil_redis_call_done(call, NGX_ERROR);
        return;
    }

    ngx_http_dukcapil_metrics_script_call(op->script);

    return;

failed:

    if (op) {
        ngx_http_dukcapil_redis_op_free(op);
    }

    if (call) {
        ngx_free(call);
    }

    for (i = 0; i < n; i++) {
        ngx_http_dukcapil_redis_answer(items[i], NULL);
    }
}


/*
 * Each item of a call gets its line of the script's answer, as a reply of
 * its own: a string, or an error for "error <why>".  An answer of any
 * other shape fails every item of the call: a line too many or too few
 * could hand one booking another's outcome.
 */
static void
ngx_http_dukcapil_redis_call_reply(void *data, ngx_uint_t index,
    redisReply *rr)
{
    ngx_http_dukcapil_redis_call_t *call = data;

    u_char      *p, *last, *nl;
    size_t       len;
    ngx_uint_t   i, lines;
    redisReply   line;
    u_char      *eol[NGX_HTTP_DUKCAPIL_REDIS_BATCH];
    char         why[128];

    call->answered = 1;

    ngx_memzero(&line, sizeof(redisReply));

    lines = 0;

    if (rr->type == REDIS_REPLY_STRING && rr->len > 0) {
        p = (u_char *) rr->str;
        last = p + rr->len;

        for ( ;; ) {
            nl = ngx_strlchr(p, last, '\n');

            if (lines < call->n) {
                eol[lines] = nl ? nl : last;
            }

            lines++;

            if (nl == NULL) {
                break;
            }

            p = nl + 1;
        }
    }

    if (lines != call->n) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: redis answered a call of %ui items with "
                      "%s of %ui lines", call->n,
                      rr->type == REDIS_REPLY_ERROR ? rr->str
                      : rr->type == REDIS_REPLY_STRING ? "a string"
                      : "a reply of another type", lines);

        /* no string: each item fails without a word of its own */
        line.type = REDIS_REPLY_NIL;

        for (i = 0; i < call->n; i++) {
            ngx_http_dukcapil_redis_answer(call->items[i], &line);
        }

        return;
    }

    p = (u_char *) rr->str;

    for (i = 0; i < call->n; i++) {
        len = eol[i] - p;

        if (len >= 5 && ngx_strncmp(p, "error", 5) == 0
            && (len == 5 || p[5] == ' '))
        {
            len = (len == 5) ? 0 : ngx_min(len - 6, sizeof(why) - 1);

            if (len) {
                ngx_memcpy(why, p + 6, len);
            }

            why[len] = '\0';

            line.type = REDIS_REPLY_ERROR;
            line.str = why;
            line.len = len;

        } else {
            line.type = REDIS_REPLY_STRING;
            line.str = (char *) p;
            line.len = len;
        }

        ngx_http_dukcapil_redis_answer(call->items[i], &line);

        p = eol[i] + 1;
    }
}


/* a call that got no answer: its items fail as a sent command fails */

static void
ngx_http_dukcapil_redis_call_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_redis_call_t *call = data;

    ngx_uint_t  i;

    if (!call->answered) {
        for (i = 0; i < call->n; i++) {
            ngx_http_dukcapil_redis_answer(call->items[i], NULL);
        }
    }

    ngx_free(call);
}


/* EVALSHA <sha1> or EVAL <text>, numkeys, then the op's script arguments */

static ngx_int_t
ngx_http_dukcapil_redis_eval(ngx_http_dukcapil_redis_op_t *op,
    const char *verb, const char *script)
{
    u_char      *buf, *p;
    size_t       len, argvlen[3];
    const char  *argv[3];
    u_char       numkeys[NGX_INT_T_LEN];

    if (ngx_http_dukcapil_redis_usable(op) != NGX_OK) {
        return NGX_ERROR;
    }

    argv[0] = verb;
    argv[1] = script;
    argv[2] = (char *) numkeys;

    argvlen[0] = ngx_strlen(verb);
    argvlen[1] = ngx_strlen(script);
    argvlen[2] = ngx_sprintf(numkeys, "%ui", op->nkeys) - numkeys;

    len = NGX_HTTP_DUKCAPIL_REDIS_HEAD
          + ngx_http_dukcapil_redis_args_size(3, argv, argvlen)
          + op->args.len;

    buf = ngx_http_dukcapil_redis_buffer(len);
    if (buf == NULL) {
        op->failed = 1;
        return NGX_ERROR;
    }

    p = ngx_http_dukcapil_redis_head(buf, 3 + op->argc);
    p = ngx_http_dukcapil_redis_args(p, 3, argv, argvlen);
    p = ngx_cpymem(p, op->args.data, op->args.len);

    return ngx_http_dukcapil_redis_send(op, buf, p);
}


/* nothing is formatted for a connection that cannot take it */

static ngx_int_t
ngx_http_dukcapil_redis_usable(ngx_http_dukcapil_redis_op_t *op)
{
    ngx_http_dukcapil_redis_t  *rd;

    rd = &ngx_http_dukcapil_redis;

    if (op->failed || !rd->ready || rd->exiting) {
        op->failed = 1;
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
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

    op->sent++;
    op->outstanding++;

    return NGX_OK;
}


/*
 * Commands are formatted in RESP by the module, at once, into one buffer
 * of the worker's (hiredis copies a command into its output buffer before
 * this is used again): hiredis's own formatting grows a string argument
 * by argument, a reallocation and a format parse each, which was a
 * twentieth of a worker at the 07:00 rush.  The buffer has room for len
 * bytes and a NUL.
 */
static u_char *
ngx_http_dukcapil_redis_buffer(size_t len)
{
    u_char  *p;

    if (len + 1 > ngx_http_dukcapil_redis_buf.len) {
        len = ngx_max(len + 1, 4096);

        p = ngx_alloc(len, ngx_cycle->log);
        if (p == NULL) {
            return NULL;
        }

        if (ngx_http_dukcapil_redis_buf.data) {
            ngx_free(ngx_http_dukcapil_redis_buf.data);
        }

        ngx_http_dukcapil_redis_buf.data = p;
        ngx_http_dukcapil_redis_buf.len = len;
    }

    return ngx_http_dukcapil_redis_buf.data;
}


/* "*<argc>\r\n" */

static u_char *
ngx_http_dukcapil_redis_head(u_char *p, int argc)
{
    *p++ = '*';

    return ngx_http_dukcapil_redis_decimal(p, argc);
}


/* at least the size of the RESP of argv[0..argc) */

static size_t
ngx_http_dukcapil_redis_args_size(int argc, const char **argv,
    const size_t *argvlen)
{
    int     i;
    size_t  len;

    len = 0;

    for (i = 0; i < argc; i++) {
        len += sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN
               + (argvlen ? argvlen[i] : ngx_strlen(argv[i]));
    }

    return len;
}


static u_char *
ngx_http_dukcapil_redis_args(u_char *p, int argc, const char **argv,
    const size_t *argvlen)
{
    int     i;
    size_t  n;

    for (i = 0; i < argc; i++) {
        n = argvlen ? argvlen[i] : ngx_strlen(argv[i]);

        *p++ = '$';
        p = ngx_http_dukcapil_redis_decimal(p, n);
        p = ngx_cpymem(p, argv[i], n);
        *p++ = CR;
        *p++ = LF;
    }

    return p;
}


/* n and CRLF */

static u_char *
ngx_http_dukcapil_redis_decimal(u_char *p, size_t n)
{
    p = ngx_http_dukcapil_decimal(p, (ngx_int_t) n);
    *p++ = CR;
    *p++ = LF;

    return p;
}


ngx_int_t
ngx_http_dukcapil_redis_wait(ngx_http_dukcapil_redis_op_t *op)
{
    if (op->failed || op->sent == 0) {
        ngx_http_dukcapil_redis_cancel(op);
        return NGX_ERROR;
    }

    ngx_add_timer(&op->timeout, ngx_http_dukcapil_redis.dmcf->redis_timeout);

    return NGX_OK;
}


void
ngx_http_dukcapil_redis_cancel(ngx_http_dukcapil_redis_op_t *op)
{
    op->finished = 1;

    if (op->timeout.timer_set) {
        ngx_del_timer(&op->timeout);
    }

    if (op->outstanding == 0) {
        ngx_http_dukcapil_redis_op_free(op);
    }
}


static void
ngx_http_dukcapil_redis_op_free(ngx_http_dukcapil_redis_op_t *op)
{
    if (op->args.data) {
        ngx_free(op->args.data);
    }

    ngx_free(op);
}


static void
ngx_http_dukcapil_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_dukcapil_redis_answer(privdata, reply);
}


/* one answer to an op: rr is NULL when the command got none */

static void
ngx_http_dukcapil_redis_answer(ngx_http_dukcapil_redis_op_t *op,
    redisReply *rr)
{
    op->outstanding--;

    if (op->finished) {
        if (op->outstanding == 0) {
            ngx_http_dukcapil_redis_op_free(op);
        }
        return;
    }

    if (rr == NULL) {
        ngx_http_dukcapil_redis_finish(op, NGX_ERROR);
        return;
    }

    /* an item's call is sent again, not the item */
    if (rr->type == REDIS_REPLY_ERROR
        && op->args.data
        && !op->item
        && ngx_strncmp(rr->str, "NOSCRIPT", 8) == 0)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "dukcapil: redis lost its script cache, sending EVAL");

        op->sent--;

        if (ngx_http_dukcapil_redis_eval(op, "EVAL",
                                    ngx_http_dukcapil_scripts[op->script].text)
            != NGX_OK)
        {
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
ngx_http_dukcapil_redis_op_timeout(ngx_event_t *ev)
{
    ngx_http_dukcapil_redis_op_t  *op;

    op = ev->data;

    ngx_log_error(NGX_LOG_ERR, ev->log, NGX_ETIMEDOUT,
                  "dukcapil: redis timed out");

    ngx_http_dukcapil_redis_finish(op, NGX_ERROR);
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

    done(data, rc);
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
