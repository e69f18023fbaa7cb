
/*
 * libpq <-> nginx: the per-worker PostgreSQL pool.
 *
 * A connection is a small state machine: connecting (PQconnectPoll),
 * preparing (one PQsendPrepare per statement), idle, busy (one statement in
 * flight).  Its socket is registered level-triggered for exactly what libpq
 * waits for.  A statement that times out closes its connection, so the
 * server rolls back whatever had not committed, and a new one is opened.
 * Connections are never marked idle: a worker that shuts down still
 * answers the requests it has read, and closes them in exit_process.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_pg.h"
#include "ngx_http_dukcapil_sql.h"


#define NGX_HTTP_DUKCAPIL_PG_BACKOFF_MIN  100
#define NGX_HTTP_DUKCAPIL_PG_BACKOFF_MAX  2000
#define NGX_HTTP_DUKCAPIL_PG_QUEUE_MAX    4096


typedef enum {
    NGX_HTTP_DUKCAPIL_PG_DOWN = 0,
    NGX_HTTP_DUKCAPIL_PG_CONNECTING,
    NGX_HTTP_DUKCAPIL_PG_PREPARING,
    NGX_HTTP_DUKCAPIL_PG_IDLE,
    NGX_HTTP_DUKCAPIL_PG_BUSY
} ngx_http_dukcapil_pg_state_e;


typedef struct {
    PGconn                         *pg;
    ngx_connection_t               *connection;
    ngx_http_dukcapil_pg_state_e    state;
    ngx_uint_t                      prepared;
    ngx_http_dukcapil_pg_op_t      *op;
    PGresult                       *result;
    ngx_event_t                     timer;      /* connect timeout, retry */
    ngx_msec_t                      backoff;
} ngx_http_dukcapil_pg_conn_t;


typedef struct {
    ngx_http_dukcapil_pg_conn_t    *conns;
    ngx_uint_t                      nconns;
    ngx_queue_t                     waiting;
    ngx_uint_t                      nwaiting;
    ngx_log_t                      *log;
    ngx_http_dukcapil_main_conf_t  *dmcf;
    unsigned                        exiting:1;
} ngx_http_dukcapil_pg_pool_t;


static void ngx_http_dukcapil_pg_connect(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_poll_connect(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_close(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_msec_t retry);
static void ngx_http_dukcapil_pg_timer_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_pg_event_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_dukcapil_pg_interest(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_uint_t read, ngx_uint_t write);
static ngx_int_t ngx_http_dukcapil_pg_flush(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_receive(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_complete(ngx_http_dukcapil_pg_conn_t *pc);
static ngx_int_t ngx_http_dukcapil_pg_prepare_next(
    ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_idle(ngx_http_dukcapil_pg_conn_t *pc);
static ngx_int_t ngx_http_dukcapil_pg_send(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_http_dukcapil_pg_op_t *op);
static void ngx_http_dukcapil_pg_op_timeout(ngx_event_t *ev);
static void ngx_http_dukcapil_pg_finish(ngx_http_dukcapil_pg_op_t *op,
    PGresult *res);
static void ngx_http_dukcapil_pg_notice(void *arg, const char *message);


static ngx_http_dukcapil_pg_pool_t  ngx_http_dukcapil_pg_pool;


ngx_int_t
ngx_http_dukcapil_pg_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf)
{
    ngx_uint_t                    i;
    ngx_http_dukcapil_pg_conn_t  *pc;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    ngx_memzero(pool, sizeof(ngx_http_dukcapil_pg_pool_t));

    pool->log = cycle->log;
    pool->dmcf = dmcf;
    pool->nconns = dmcf->pg_pool;
    ngx_queue_init(&pool->waiting);

    pool->conns = ngx_pcalloc(cycle->pool,
                              pool->nconns
                              * sizeof(ngx_http_dukcapil_pg_conn_t));
    if (pool->conns == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < pool->nconns; i++) {
        pc = &pool->conns[i];

        pc->backoff = NGX_HTTP_DUKCAPIL_PG_BACKOFF_MIN;
        pc->timer.handler = ngx_http_dukcapil_pg_timer_handler;
        pc->timer.data = pc;
        pc->timer.log = cycle->log;
        pc->timer.cancelable = 1;

        ngx_http_dukcapil_pg_connect(pc);
    }

    return NGX_OK;
}


void
ngx_http_dukcapil_pg_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_queue_t                  *q;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    pool->exiting = 1;

    while (!ngx_queue_empty(&pool->waiting)) {
        q = ngx_queue_head(&pool->waiting);
        op = ngx_queue_data(q, ngx_http_dukcapil_pg_op_t, queue);
        ngx_http_dukcapil_pg_finish(op, NULL);
    }

    for (i = 0; i < pool->nconns; i++) {
        ngx_http_dukcapil_pg_close(&pool->conns[i], 0);
    }
}


static void
ngx_http_dukcapil_pg_connect(ngx_http_dukcapil_pg_conn_t *pc)
{
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    pc->pg = PQconnectStart((char *) pool->dmcf->pg_conninfo.data);

    if (pc->pg == NULL || PQstatus(pc->pg) == CONNECTION_BAD) {
        ngx_log_error(NGX_LOG_ERR, pool->log, 0,
                      "dukcapil: postgres connect failed: %s",
                      pc->pg ? PQerrorMessage(pc->pg) : "out of memory");
        ngx_http_dukcapil_pg_close(pc, pc->backoff);
        return;
    }

    if (PQsetnonblocking(pc->pg, 1) != 0) {
        ngx_http_dukcapil_pg_close(pc, pc->backoff);
        return;
    }

    PQsetNoticeProcessor(pc->pg, ngx_http_dukcapil_pg_notice, NULL);

    pc->state = NGX_HTTP_DUKCAPIL_PG_CONNECTING;

    ngx_add_timer(&pc->timer, pool->dmcf->pg_timeout);

    ngx_http_dukcapil_pg_poll_connect(pc);
}


static void
ngx_http_dukcapil_pg_poll_connect(ngx_http_dukcapil_pg_conn_t *pc)
{
    ngx_socket_t                  fd;
    ngx_connection_t             *c;
    PostgresPollingStatusType     status;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    status = PQconnectPoll(pc->pg);

    if (status == PGRES_POLLING_FAILED) {
        ngx_log_error(NGX_LOG_ERR, pool->log, 0,
                      "dukcapil: postgres connect failed: %s",
                      PQerrorMessage(pc->pg));
        ngx_http_dukcapil_pg_close(pc, pc->backoff);
        return;
    }

    /* libpq may move to another socket while it tries addresses */

    fd = PQsocket(pc->pg);
    c = pc->connection;

    if (c && c->fd != fd) {
        if (c->read->active) {
            (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
        }
        if (c->write->active) {
            (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
        }
        c->fd = (ngx_socket_t) -1;
        ngx_free_connection(c);
        c = NULL;
    }

    if (c == NULL) {
        c = ngx_get_connection(fd, pool->log);
        if (c == NULL) {
            ngx_http_dukcapil_pg_close(pc, pc->backoff);
            return;
        }

        c->data = pc;
        c->read->handler = ngx_http_dukcapil_pg_event_handler;
        c->write->handler = ngx_http_dukcapil_pg_event_handler;
        c->read->log = pool->log;
        c->write->log = pool->log;
        pc->connection = c;
    }

    switch (status) {

    case PGRES_POLLING_READING:
        (void) ngx_http_dukcapil_pg_interest(pc, 1, 0);
        return;

    case PGRES_POLLING_WRITING:
        (void) ngx_http_dukcapil_pg_interest(pc, 0, 1);
        return;

    default: /* PGRES_POLLING_OK */
        break;
    }

    ngx_log_error(NGX_LOG_INFO, pool->log, 0,
                  "dukcapil: postgres connected");

    pc->state = NGX_HTTP_DUKCAPIL_PG_PREPARING;
    pc->prepared = 0;

    if (ngx_http_dukcapil_pg_prepare_next(pc) != NGX_OK) {
        ngx_http_dukcapil_pg_close(pc, pc->backoff);
    }
}


static ngx_int_t
ngx_http_dukcapil_pg_prepare_next(ngx_http_dukcapil_pg_conn_t *pc)
{
    ngx_http_dukcapil_statement_t  *st;

    if (pc->prepared == ngx_http_dukcapil_nstatements) {
        if (pc->timer.timer_set) {
            ngx_del_timer(&pc->timer);
        }

        pc->backoff = NGX_HTTP_DUKCAPIL_PG_BACKOFF_MIN;
        ngx_http_dukcapil_pg_idle(pc);
        return NGX_OK;
    }

    st = &ngx_http_dukcapil_statements[pc->prepared];

    if (!PQsendPrepare(pc->pg, st->name, st->sql, st->nparams, NULL)) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_dukcapil_pg_pool.log, 0,
                      "dukcapil: postgres prepare \"%s\" failed: %s",
                      st->name, PQerrorMessage(pc->pg));
        return NGX_ERROR;
    }

    return ngx_http_dukcapil_pg_flush(pc);
}


static ngx_int_t
ngx_http_dukcapil_pg_interest(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_uint_t read, ngx_uint_t write)
{
    ngx_connection_t  *c;

    c = pc->connection;

    if (read && !c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (!read && c->read->active) {
        if (ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (write && !c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (!write && c->write->active) {
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_dukcapil_pg_flush(ngx_http_dukcapil_pg_conn_t *pc)
{
    int  rc;

    rc = PQflush(pc->pg);

    if (rc == -1) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_dukcapil_pg_pool.log, 0,
                      "dukcapil: postgres send failed: %s",
                      PQerrorMessage(pc->pg));
        return NGX_ERROR;
    }

    return ngx_http_dukcapil_pg_interest(pc, 1, rc == 1);
}


static void
ngx_http_dukcapil_pg_event_handler(ngx_event_t *ev)
{
    ngx_connection_t             *c;
    ngx_http_dukcapil_pg_conn_t  *pc;

    c = ev->data;
    pc = c->data;

    switch (pc->state) {

    case NGX_HTTP_DUKCAPIL_PG_CONNECTING:
        ngx_http_dukcapil_pg_poll_connect(pc);
        return;

    case NGX_HTTP_DUKCAPIL_PG_PREPARING:
    case NGX_HTTP_DUKCAPIL_PG_BUSY:
        if (ev->write) {
            if (ngx_http_dukcapil_pg_flush(pc) != NGX_OK) {
                ngx_http_dukcapil_pg_close(pc, pc->backoff);
            }
            return;
        }

        ngx_http_dukcapil_pg_receive(pc);
        return;

    case NGX_HTTP_DUKCAPIL_PG_IDLE:
        /* nothing is expected: a notice, or the server went away */
        if (!PQconsumeInput(pc->pg) || PQstatus(pc->pg) != CONNECTION_OK) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_dukcapil_pg_pool.log, 0,
                          "dukcapil: postgres connection lost: %s",
                          PQerrorMessage(pc->pg));
            ngx_http_dukcapil_pg_close(pc, 0);
        }
        return;

    default:
        return;
    }
}


static void
ngx_http_dukcapil_pg_receive(ngx_http_dukcapil_pg_conn_t *pc)
{
    PGresult    *res;
    ngx_uint_t   n;

    if (!PQconsumeInput(pc->pg)) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_dukcapil_pg_pool.log, 0,
                      "dukcapil: postgres connection lost: %s",
                      PQerrorMessage(pc->pg));

        /* what the server said before it went away was read: keep it */
        for (n = 0; n < 4 && (res = PQgetResult(pc->pg)) != NULL; n++) {
            if (pc->result == NULL) {
                pc->result = res;

            } else {
                PQclear(res);
            }
        }

        ngx_http_dukcapil_pg_close(pc, 0);
        return;
    }

    while (!PQisBusy(pc->pg)) {
        res = PQgetResult(pc->pg);

        if (res == NULL) {
            ngx_http_dukcapil_pg_complete(pc);
            return;
        }

        /* a statement answers one result: keep the first, error or not */
        if (pc->result == NULL) {
            pc->result = res;

        } else {
            PQclear(res);
        }
    }
}


static void
ngx_http_dukcapil_pg_complete(ngx_http_dukcapil_pg_conn_t *pc)
{
    PGresult                   *res;
    ngx_http_dukcapil_pg_op_t  *op;

    res = pc->result;
    pc->result = NULL;

    if (pc->state == NGX_HTTP_DUKCAPIL_PG_PREPARING) {

        if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_dukcapil_pg_pool.log, 0,
                          "dukcapil: postgres prepare \"%s\" failed: %s",
                          ngx_http_dukcapil_statements[pc->prepared].name,
                          res ? PQresultErrorMessage(res) : "no result");
            PQclear(res);
            ngx_http_dukcapil_pg_close(pc, pc->backoff);
            return;
        }

        PQclear(res);
        pc->prepared++;

        if (ngx_http_dukcapil_pg_prepare_next(pc) != NGX_OK) {
            ngx_http_dukcapil_pg_close(pc, pc->backoff);
        }

        return;
    }

    op = pc->op;
    pc->op = NULL;

    ngx_http_dukcapil_pg_idle(pc);

    if (op) {
        ngx_http_dukcapil_pg_finish(op, res);
    }

    PQclear(res);
}


/* the connection is free: take the next waiting statement, if any */

static void
ngx_http_dukcapil_pg_idle(ngx_http_dukcapil_pg_conn_t *pc)
{
    ngx_queue_t                  *q;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    pc->state = NGX_HTTP_DUKCAPIL_PG_IDLE;

    while (!ngx_queue_empty(&pool->waiting)) {
        q = ngx_queue_head(&pool->waiting);
        ngx_queue_remove(q);
        pool->nwaiting--;

        op = ngx_queue_data(q, ngx_http_dukcapil_pg_op_t, queue);
        op->queued = 0;

        if (ngx_http_dukcapil_pg_send(pc, op) == NGX_OK) {
            return;
        }

        ngx_http_dukcapil_pg_finish(op, NULL);

        if (pc->state != NGX_HTTP_DUKCAPIL_PG_IDLE) {
            return;
        }
    }

    if (pool->exiting) {
        ngx_http_dukcapil_pg_close(pc, 0);
        return;
    }

    (void) ngx_http_dukcapil_pg_interest(pc, 1, 0);
}


static ngx_int_t
ngx_http_dukcapil_pg_send(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_http_dukcapil_pg_op_t *op)
{
    ngx_http_dukcapil_statement_t  *st;

    st = &ngx_http_dukcapil_statements[op->statement];

    if (!PQsendQueryPrepared(pc->pg, st->name, op->nparams, op->values,
                             op->lengths, NULL, 0))
    {
        ngx_log_error(NGX_LOG_ERR, ngx_http_dukcapil_pg_pool.log, 0,
                      "dukcapil: postgres send \"%s\" failed: %s",
                      st->name, PQerrorMessage(pc->pg));
        ngx_http_dukcapil_pg_close(pc, 0);
        return NGX_ERROR;
    }

    pc->state = NGX_HTTP_DUKCAPIL_PG_BUSY;
    pc->op = op;
    op->sent = PQbackendPID(pc->pg);

    if (ngx_http_dukcapil_pg_flush(pc) != NGX_OK) {
        pc->op = NULL;
        ngx_http_dukcapil_pg_close(pc, 0);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_http_dukcapil_pg_op_t *
ngx_http_dukcapil_pg_query(ngx_uint_t statement, int nparams,
    const char * const *values, const int *lengths,
    ngx_http_dukcapil_pg_done_pt done, void *data)
{
    ngx_uint_t                    i, alive;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_conn_t  *pc;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    if (pool->exiting || pool->nwaiting >= NGX_HTTP_DUKCAPIL_PG_QUEUE_MAX) {
        return NULL;
    }

    alive = 0;
    pc = NULL;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state == NGX_HTTP_DUKCAPIL_PG_IDLE) {
            pc = &pool->conns[i];
            break;
        }

        if (pool->conns[i].state != NGX_HTTP_DUKCAPIL_PG_DOWN) {
            alive++;
        }
    }

    /* with no connection up or coming, waiting cannot help: fail now */
    if (pc == NULL && alive == 0) {
        return NULL;
    }

    op = ngx_calloc(sizeof(ngx_http_dukcapil_pg_op_t), pool->log);
    if (op == NULL) {
        return NULL;
    }

    op->statement = statement;
    op->nparams = nparams;
    op->values = values;
    op->lengths = lengths;
    op->done = done;
    op->data = data;

    op->timeout.handler = ngx_http_dukcapil_pg_op_timeout;
    op->timeout.data = op;
    op->timeout.log = pool->log;

    if (pc && ngx_http_dukcapil_pg_send(pc, op) != NGX_OK) {
        ngx_free(op);
        return NULL;
    }

    if (pc == NULL) {
        ngx_queue_insert_tail(&pool->waiting, &op->queue);
        pool->nwaiting++;
        op->queued = 1;
    }

    ngx_add_timer(&op->timeout, pool->dmcf->pg_timeout);

    return op;
}


/*
 * The owner no longer wants the answer.  A statement already sent still
 * runs to its end; its result is dropped when it comes.
 */
void
ngx_http_dukcapil_pg_cancel(ngx_http_dukcapil_pg_op_t *op)
{
    ngx_uint_t                    i;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    if (op->timeout.timer_set) {
        ngx_del_timer(&op->timeout);
    }

    if (op->queued) {
        ngx_queue_remove(&op->queue);
        pool->nwaiting--;
    }

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].op == op) {
            pool->conns[i].op = NULL;
        }
    }

    ngx_free(op);
}


static void
ngx_http_dukcapil_pg_op_timeout(ngx_event_t *ev)
{
    ngx_uint_t                    i;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_pool_t  *pool;

    op = ev->data;
    pool = &ngx_http_dukcapil_pg_pool;

    ngx_log_error(NGX_LOG_ERR, ev->log, NGX_ETIMEDOUT,
                  "dukcapil: postgres statement \"%s\" timed out",
                  ngx_http_dukcapil_statements[op->statement].name);

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].op == op) {
            pool->conns[i].op = NULL;
            ngx_http_dukcapil_pg_close(&pool->conns[i], 0);
        }
    }

    ngx_http_dukcapil_pg_finish(op, NULL);
}


static void
ngx_http_dukcapil_pg_finish(ngx_http_dukcapil_pg_op_t *op, PGresult *res)
{
    void                          *data;
    ngx_uint_t                     sent;
    ngx_http_dukcapil_pg_done_pt   done;

    done = op->done;
    data = op->data;
    sent = op->sent;

    ngx_http_dukcapil_pg_cancel(op);

    done(data, res, sent);
}


/*
 * Closes a connection and fails what it carried.  retry: 0 opens a new one
 * at once (the server is probably fine), otherwise after that backoff.
 */
static void
ngx_http_dukcapil_pg_close(ngx_http_dukcapil_pg_conn_t *pc, ngx_msec_t retry)
{
    PGresult                     *res;
    ngx_connection_t             *c;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    c = pc->connection;

    if (c) {
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

        c->fd = (ngx_socket_t) -1;
        ngx_free_connection(c);
        pc->connection = NULL;
    }

    if (pc->pg) {
        PQfinish(pc->pg);
        pc->pg = NULL;
    }

    /*
     * An error the server sent before it went away (a shutdown, say) is a
     * definite answer: the statement did not commit.  One that libpq made
     * up for the lost connection has no SQLSTATE, and says nothing.
     */
    res = pc->result;
    pc->result = NULL;

    if (res && PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL) {
        PQclear(res);
        res = NULL;
    }

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    pc->state = NGX_HTTP_DUKCAPIL_PG_DOWN;

    op = pc->op;
    pc->op = NULL;

    if (!ngx_exiting && !pool->exiting) {
        ngx_add_timer(&pc->timer, retry ? retry : 1);

        if (retry) {
            pc->backoff = ngx_min(pc->backoff * 2,
                                  NGX_HTTP_DUKCAPIL_PG_BACKOFF_MAX);
        }
    }

    if (op) {
        ngx_http_dukcapil_pg_finish(op, res);
    }

    if (res) {
        PQclear(res);
    }
}


static void
ngx_http_dukcapil_pg_timer_handler(ngx_event_t *ev)
{
    ngx_uint_t                    i, alive;
    ngx_queue_t                  *q;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_conn_t  *pc;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pc = ev->data;
    pool = &ngx_http_dukcapil_pg_pool;

    if (pc->state == NGX_HTTP_DUKCAPIL_PG_DOWN) {
        if (!ngx_exiting) {
            ngx_http_dukcapil_pg_connect(pc);
        }
        return;
    }

    ngx_log_error(NGX_LOG_ERR, pool->log, NGX_ETIMEDOUT,
                  "dukcapil: postgres connect timed out");

    ngx_http_dukcapil_pg_close(pc, pc->backoff);

    /* waiting statements fail now if nothing is left that could run them */

    alive = 0;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state != NGX_HTTP_DUKCAPIL_PG_DOWN) {
            alive++;
        }
    }

    while (alive == 0 && !ngx_queue_empty(&pool->waiting)) {
        q = ngx_queue_head(&pool->waiting);
        op = ngx_queue_data(q, ngx_http_dukcapil_pg_op_t, queue);
        ngx_http_dukcapil_pg_finish(op, NULL);
    }
}


ngx_uint_t
ngx_http_dukcapil_pg_unique_violation(PGresult *res, const char *constraint)
{
    const char  *state, *name;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

    return state && name && ngx_strcmp(state, "23505") == 0
           && ngx_strcmp(name, constraint) == 0;
}


/*
 * What may be logged of an error: its primary message names the constraint
 * but, unlike its detail, never the row's values (a NIK, a phone).
 */
const char *
ngx_http_dukcapil_pg_error(PGresult *res)
{
    const char  *message;

    message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    return message ? message : "unknown error";
}


static void
ngx_http_dukcapil_pg_notice(void *arg, const char *message)
{
    ngx_log_error(NGX_LOG_INFO, ngx_http_dukcapil_pg_pool.log, 0,
                  "dukcapil: postgres: %s", message);
}
