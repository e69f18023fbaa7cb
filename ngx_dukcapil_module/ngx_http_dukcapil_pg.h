
/*
 * A small per-worker pool of PostgreSQL connections, driven by libpq in
 * non-blocking mode on nginx's event loop.  Every statement is prepared
 * when a connection opens; a request that finds every connection busy
 * waits in a queue, under the same timeout as the statement itself.
 */


#ifndef _NGX_HTTP_DUKCAPIL_PG_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_PG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <libpq-fe.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_pg_conn.h"


ngx_int_t ngx_http_dukcapil_pg_init_process(ngx_cycle_t *cycle,
    ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_http_dukcapil_statement_t *statements, ngx_uint_t n);
void ngx_http_dukcapil_pg_exit_process(void);

/* the values must stay valid until done is called or the op cancelled */
ngx_http_dukcapil_pg_op_t *ngx_http_dukcapil_pg_query(ngx_uint_t statement,
    int nparams, const char * const *values, const int *lengths,
    ngx_http_dukcapil_pg_done_pt done, void *data);
void ngx_http_dukcapil_pg_cancel(ngx_http_dukcapil_pg_op_t *op);

const char *ngx_http_dukcapil_pg_error(PGresult *res);


#endif /* _NGX_HTTP_DUKCAPIL_PG_H_INCLUDED_ */
