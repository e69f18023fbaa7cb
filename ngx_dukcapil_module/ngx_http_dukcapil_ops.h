
/*
 * What every operator's endpoint shares: the way a step comes in (a JSON
 * body from the service's own pages, or from no browser, on the code of its
 * URI), the operator nginx authenticated, who is the actor of the audit
 * trail, and the outcome its SQL function answers.
 */


#ifndef _NGX_HTTP_DUKCAPIL_OPS_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_OPS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "ngx_http_dukcapil_job.h"


ngx_int_t ngx_http_dukcapil_ops_write(ngx_http_request_t *r,
    ngx_uint_t method, ngx_http_client_body_handler_pt post);
const char *ngx_http_dukcapil_actor(ngx_http_dukcapil_job_t *job);
json_t *ngx_http_dukcapil_ops_step_body(ngx_http_request_t *r, u_char letter,
    ngx_str_t *raw, char *code);
const char *ngx_http_dukcapil_ops_status(ngx_str_t *name);
const char *ngx_http_dukcapil_ops_outcome(ngx_http_dukcapil_job_t *job,
    PGresult *res);


#endif /* _NGX_HTTP_DUKCAPIL_OPS_H_INCLUDED_ */
