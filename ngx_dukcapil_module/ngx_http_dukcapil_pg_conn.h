
/*
 * One PostgreSQL connection of a worker's pool, driven by libpq in
 * non-blocking mode: connecting (PQconnectPoll), preparing (one
 * PQsendPrepare per statement, then a read of the server's clock), idle,
 * busy (one statement in flight).
 * Its socket is registered level-triggered for exactly what libpq waits
 * for.  The pool above it hands it statements and hears, through the
 * callbacks of its configuration, when it is free and what was answered.
 */


#ifndef _NGX_HTTP_DUKCAPIL_PG_CONN_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_PG_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <libpq-fe.h>

#include "ngx_http_dukcapil_driver.h"


typedef struct {
    const char                  *name;
    const char                  *sql;
    int                          nparams;
    /* its last parameter: when its op stops waiting, in the server's clock */
    ngx_uint_t                   deadline;
} ngx_http_dukcapil_statement_t;


/*
 * res is NULL when no answer came (no connection, timeout, connection
 * lost); otherwise it is the statement's result, freed after the call.
 * backend: the process id of the server backend that got the statement,
 * 0 if it was never sent; with no answer, the statement's outcome is
 * unknown until that backend is gone.
 */
typedef void (*ngx_http_dukcapil_pg_done_pt)(void *data, PGresult *res,
    ngx_uint_t backend);


/* a statement a request waits for */
typedef struct {
    ngx_http_dukcapil_op_t           op;
    ngx_queue_t                      queue;

    ngx_uint_t                       statement;
    int                              nparams;
    const char * const              *values;
    const int                       *lengths;

    ngx_http_dukcapil_pg_done_pt     done;
    void                            *data;

    ngx_uint_t                       backend;
    ngx_msec_t                       expires;   /* when the wait ends */

    unsigned                         queued:1;
} ngx_http_dukcapil_pg_op_t;


typedef enum {
    NGX_HTTP_DUKCAPIL_PG_DOWN = 0,
    NGX_HTTP_DUKCAPIL_PG_CONNECTING,
    NGX_HTTP_DUKCAPIL_PG_PREPARING,
    NGX_HTTP_DUKCAPIL_PG_IDLE,
    NGX_HTTP_DUKCAPIL_PG_BUSY
} ngx_http_dukcapil_pg_state_e;


typedef struct ngx_http_dukcapil_pg_conn_s  ngx_http_dukcapil_pg_conn_t;

typedef void (*ngx_http_dukcapil_pg_conn_pt)(ngx_http_dukcapil_pg_conn_t *pc);
typedef void (*ngx_http_dukcapil_pg_answer_pt)(ngx_http_dukcapil_pg_op_t *op,
    PGresult *res);


/* what every connection of the pool shares */
typedef struct {
    u_char                          *conninfo;
    ngx_msec_t                       connect_timeout;
    ngx_http_dukcapil_statement_t   *statements;
    ngx_uint_t                       nstatements;

    /* the pool's: the connection is free for the next statement */
    ngx_http_dukcapil_pg_conn_pt     idle;
    /* a statement's answer, or NULL: none will come */
    ngx_http_dukcapil_pg_answer_pt   answer;
    /* a connection gave up connecting */
    ngx_http_dukcapil_pg_conn_pt     failed;
} ngx_http_dukcapil_pg_conf_t;


struct ngx_http_dukcapil_pg_conn_s {
    ngx_http_dukcapil_peer_t         peer;
    PGconn                          *pg;
    ngx_http_dukcapil_pg_state_e     state;
    ngx_uint_t                       prepared;
    ngx_msec_t                       clock_asked;
    ngx_http_dukcapil_pg_op_t       *op;
    PGresult                        *result;
    ngx_http_dukcapil_pg_conf_t     *conf;
};


void ngx_http_dukcapil_pg_conn_init(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_http_dukcapil_pg_conf_t *conf, ngx_log_t *log);
ngx_int_t ngx_http_dukcapil_pg_conn_send(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_http_dukcapil_pg_op_t *op);
void ngx_http_dukcapil_pg_conn_listen(ngx_http_dukcapil_pg_conn_t *pc);
void ngx_http_dukcapil_pg_conn_close(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_uint_t backoff);


#endif /* _NGX_HTTP_DUKCAPIL_PG_CONN_H_INCLUDED_ */
