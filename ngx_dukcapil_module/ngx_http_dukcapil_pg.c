
/*
 * libpq <-> nginx: the per-worker PostgreSQL pool.  A statement goes to an
 * idle connection, or waits in the pool's queue for one, under the same
 * timeout as the statement itself.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_dukcapil_pg.h"


#define NGX_HTTP_DUKCAPIL_PG_QUEUE_MAX  4096


typedef struct {
    ngx_http_dukcapil_pg_conf_t      conf;
    ngx_http_dukcapil_pg_conn_t     *conns;
    ngx_uint_t                       nconns;
    ngx_queue_t                      waiting;
    ngx_uint_t                       nwaiting;
    ngx_log_t                       *log;
    ngx_msec_t                       timeout;
    unsigned                         exiting:1;
} ngx_http_dukcapil_pg_pool_t;


static void ngx_http_dukcapil_pg_idle(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_failed(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_fail_waiting(ngx_uint_t always);
static void ngx_http_dukcapil_pg_answer(ngx_http_dukcapil_pg_op_t *op,
    PGresult *res);
static void ngx_http_dukcapil_pg_expire(ngx_http_dukcapil_op_t *op);
static void ngx_http_dukcapil_pg_free(ngx_http_dukcapil_op_t *op);
static void ngx_http_dukcapil_pg_finish(ngx_http_dukcapil_pg_op_t *op,
    PGresult *res);


static ngx_http_dukcapil_pg_pool_t  ngx_http_dukcapil_pg_pool;


ngx_int_t
ngx_http_dukcapil_pg_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_http_dukcapil_statement_t *statements, ngx_uint_t n)
{
    ngx_uint_t                    i;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    ngx_memzero(pool, sizeof(ngx_http_dukcapil_pg_pool_t));

    pool->log = cycle->log;
    pool->timeout = dmcf->pg_timeout;
    pool->nconns = dmcf->pg_pool;
    ngx_queue_init(&pool->waiting);

    pool->conf.conninfo = dmcf->pg_conninfo.data;
    pool->conf.connect_timeout = dmcf->pg_timeout;
    pool->conf.statements = statements;
    pool->conf.nstatements = n;
    pool->conf.idle = ngx_http_dukcapil_pg_idle;
    pool->conf.answer = ngx_http_dukcapil_pg_answer;
    pool->conf.failed = ngx_http_dukcapil_pg_failed;

    pool->conns = ngx_pcalloc(cycle->pool,
                              pool->nconns
                              * sizeof(ngx_http_dukcapil_pg_conn_t));
    if (pool->conns == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < pool->nconns; i++) {
        ngx_http_dukcapil_pg_conn_init(&pool->conns[i], &pool->conf,
                                       cycle->log);
    }

    return NGX_OK;
}


void
ngx_http_dukcapil_pg_exit_process(void)
{
    ngx_uint_t                    i;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    pool->exiting = 1;

    for (i = 0; i < pool->nconns; i++) {
        ngx_http_dukcapil_peer_exit(&pool->conns[i].peer);
    }

    ngx_http_dukcapil_pg_fail_waiting(1);

    for (i = 0; i < pool->nconns; i++) {
        ngx_http_dukcapil_pg_conn_close(&pool->conns[i], 0);
    }
}


/* a connection is free: it takes the next waiting statement, if any */

static void
ngx_http_dukcapil_pg_idle(ngx_http_dukcapil_pg_conn_t *pc)
{
    ngx_queue_t                  *q;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    while (!ngx_queue_empty(&pool->waiting)) {
        q = ngx_queue_head(&pool->waiting);
        ngx_queue_remove(q);
        pool->nwaiting--;

        op = ngx_queue_data(q, ngx_http_dukcapil_pg_op_t, queue);
        op->queued = 0;

        if (ngx_http_dukcapil_pg_conn_send(pc, op) == NGX_OK) {
            return;
        }

        ngx_http_dukcapil_pg_finish(op, NULL);

        if (pc->state != NGX_HTTP_DUKCAPIL_PG_IDLE) {
            return;
        }
    }

    if (pool->exiting) {
        ngx_http_dukcapil_pg_conn_close(pc, 0);
        return;
    }

    ngx_http_dukcapil_pg_conn_listen(pc);
}


/* waiting statements fail now if nothing is left that could run them */

static void
ngx_http_dukcapil_pg_failed(ngx_http_dukcapil_pg_conn_t *pc)
{
    ngx_http_dukcapil_pg_fail_waiting(0);
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

    ngx_http_dukcapil_op_init(&op->op, ngx_http_dukcapil_pg_expire,
                              ngx_http_dukcapil_pg_free);

    op->statement = statement;
    op->nparams = nparams;
    op->values = values;
    op->lengths = lengths;
    op->done = done;
    op->data = data;
    op->expires = ngx_current_msec + pool->timeout;

    if (pc && ngx_http_dukcapil_pg_conn_send(pc, op) != NGX_OK) {
        ngx_free(op);
        return NULL;
    }

    if (pc == NULL) {
        ngx_queue_insert_tail(&pool->waiting, &op->queue);
        pool->nwaiting++;
        op->queued = 1;
    }

    ngx_http_dukcapil_op_wait(&op->op, pool->timeout);

    return op;
}


/*
 * The owner no longer wants the answer.  A statement already sent still
 * runs to its end; its result is dropped when it comes.
 */
void
ngx_http_dukcapil_pg_cancel(ngx_http_dukcapil_pg_op_t *op)
{
    if (op->queued) {
        ngx_queue_remove(&op->queue);
        ngx_http_dukcapil_pg_pool.nwaiting--;
        op->queued = 0;
    }

    ngx_http_dukcapil_op_cancel(&op->op);
}


static void
ngx_http_dukcapil_pg_answer(ngx_http_dukcapil_pg_op_t *op, PGresult *res)
{
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "dukcapil postgres: op %p answered: %s%s", op,
                   res ? PQresStatus(PQresultStatus(res)) : "no answer",
                   op->op.finished ? ", dropped" : "");

    if (ngx_http_dukcapil_op_answered(&op->op) == NGX_OK) {
        ngx_http_dukcapil_pg_finish(op, res);
    }
}


/* a statement that takes too long: its connection goes, and it with it */

static void
ngx_http_dukcapil_pg_expire(ngx_http_dukcapil_op_t *o)
{
    ngx_uint_t                    i;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_pool_t  *pool;

    op = (ngx_http_dukcapil_pg_op_t *) o;
    pool = &ngx_http_dukcapil_pg_pool;

    ngx_log_error(NGX_LOG_ERR, pool->log, NGX_ETIMEDOUT,
                  "dukcapil: postgres statement \"%s\" timed out",
                  pool->conf.statements[op->statement].name);

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].op == op) {
            pool->conns[i].op = NULL;
            op->op.outstanding = 0;
            ngx_http_dukcapil_pg_conn_close(&pool->conns[i], 0);
        }
    }

    ngx_http_dukcapil_pg_finish(op, NULL);
}


static void
ngx_http_dukcapil_pg_free(ngx_http_dukcapil_op_t *op)
{
    ngx_free(op);
}


static void
ngx_http_dukcapil_pg_finish(ngx_http_dukcapil_pg_op_t *op, PGresult *res)
{
    void                          *data;
    ngx_uint_t                     backend;
    ngx_http_dukcapil_pg_done_pt   done;

    done = op->done;
    data = op->data;
    backend = op->backend;

    ngx_http_dukcapil_pg_cancel(op);

    done(data, res, backend);
}


/* always: the worker is leaving; otherwise only when no connection is left */

static void
ngx_http_dukcapil_pg_fail_waiting(ngx_uint_t always)
{
    ngx_uint_t                    i;
    ngx_queue_t                  *q;
    ngx_http_dukcapil_pg_op_t    *op;
    ngx_http_dukcapil_pg_pool_t  *pool;

    pool = &ngx_http_dukcapil_pg_pool;

    for (i = 0; !always && i < pool->nconns; i++) {
        if (pool->conns[i].state != NGX_HTTP_DUKCAPIL_PG_DOWN) {
            return;
        }
    }

    while (!ngx_queue_empty(&pool->waiting)) {
        q = ngx_queue_head(&pool->waiting);
        op = ngx_queue_data(q, ngx_http_dukcapil_pg_op_t, queue);
        ngx_http_dukcapil_pg_finish(op, NULL);
    }
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

