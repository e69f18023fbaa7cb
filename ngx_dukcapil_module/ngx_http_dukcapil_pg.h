
/*
 * A small per-worker pool of PostgreSQL connections, driven by libpq in
 * non-blocking mode on nginx's event loop.  Every statement is prepared
 * when a connection opens; a request that finds every connection busy waits
 * in a queue, under the same timeout as the statement itself.
 */


#ifndef _NGX_HTTP_DUKCAPIL_PG_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_PG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>

#include "ngx_http_dukcapil_module.h"


typedef struct {
    const char                  *name;
    const char                  *sql;
    int                          nparams;
} ngx_http_dukcapil_statement_t;


/*
 * res is NULL when no answer came (no connection, timeout, connection
 * lost); otherwise it is the statement's result, freed after the call.
 * sent: the process id of the server backend that got the statement, 0 if
 * it was never sent; with no answer, the statement's outcome is unknown
 * until that backend is gone.
 */
typedef void (*ngx_http_dukcapil_pg_done_pt)(void *data, PGresult *res,
    ngx_uint_t sent);


struct ngx_http_dukcapil_pg_op_s {
    ngx_queue_t                   queue;
    ngx_event_t                   timeout;

    ngx_uint_t                    statement;
    int                           nparams;
    const char * const           *values;
    const int                    *lengths;

    ngx_http_dukcapil_pg_done_pt  done;
    void                         *data;

    ngx_uint_t                    sent;       /* the server's backend pid */

    unsigned                      queued:1;
    unsigned                      finished:1;
};


ngx_int_t ngx_http_dukcapil_pg_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf);
void ngx_http_dukcapil_pg_exit_process(ngx_cycle_t *cycle);

/* the values must stay valid until done is called or the op cancelled */
ngx_http_dukcapil_pg_op_t *ngx_http_dukcapil_pg_query(ngx_uint_t statement,
    int nparams, const char * const *values, const int *lengths,
    ngx_http_dukcapil_pg_done_pt done, void *data);
void ngx_http_dukcapil_pg_cancel(ngx_http_dukcapil_pg_op_t *op);

ngx_uint_t ngx_http_dukcapil_pg_unique_violation(PGresult *res,
    const char *constraint);
const char *ngx_http_dukcapil_pg_error(PGresult *res);


#endif /* _NGX_HTTP_DUKCAPIL_PG_H_INCLUDED_ */
