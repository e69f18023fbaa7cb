
/*
 * The job that carries a request to its answer.
 *
 * A read is abandoned when its client goes away.  A write is not: its job
 * lives in a pool of its own, so a booking whose client vanished still
 * commits or gives its slot back, and its answer is still kept for the
 * Idempotency-Key that a retry will bring.
 */


#ifndef _NGX_HTTP_DUKCAPIL_JOB_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_JOB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_redis.h"
#include "ngx_http_dukcapil_pg.h"


#define NGX_HTTP_DUKCAPIL_JOB_VALUES  20
#define NGX_HTTP_DUKCAPIL_JOB_ARGS    24


typedef struct ngx_http_dukcapil_job_s  ngx_http_dukcapil_job_t;

typedef void (*ngx_http_dukcapil_job_pt)(ngx_http_dukcapil_job_t *job);
typedef ngx_int_t (*ngx_http_dukcapil_job_store_pt)(
    ngx_http_dukcapil_job_t *job);


struct ngx_http_dukcapil_job_s {
    ngx_pool_t                      *pool;       /* own pool: a write */
    ngx_http_request_t              *request;    /* NULL: client gone */
    ngx_log_t                       *log;
    ngx_http_dukcapil_main_conf_t   *dmcf;
    ngx_http_cleanup_t              *cleanup;

    /* what the job waits for, if anything */
    ngx_http_dukcapil_redis_op_t    *redis;
    ngx_http_dukcapil_pg_op_t       *pg;

    /* the answer, its type if not JSON, the Location of a 201, and the
     * Retry-After of a 429 (seconds) */
    ngx_uint_t                       status;
    ngx_str_t                        answer;
    ngx_str_t                       *type;
    ngx_str_t                        location;
    time_t                           retry_after;

    /*
     * Set while the job holds an Idempotency-Key: keeps the answer for the
     * key's retries, NGX_OK when the answer then waits for Redis to hold
     * it (storing).  The key's own state is in idempotency.
     */
    ngx_http_dukcapil_job_store_pt   store;
    ngx_http_dukcapil_redis_op_t    *storing;
    void                            *idempotency;

    /* the endpoint's own state */
    void                            *data;

    /* the answer does not end the job: its owner frees it later */
    unsigned                         keep:1;

    /*
     * The answer is not the outcome, which is being settled (settle.c):
     * the Idempotency-Key stays claimed, for the answer given then.
     */
    unsigned                         unsettled:1;

    /* statement parameters, alive as long as the job */
    const char                      *values[NGX_HTTP_DUKCAPIL_JOB_VALUES];

    /* Redis command arguments, alive as long as the job */
    const char                      *argv[NGX_HTTP_DUKCAPIL_JOB_ARGS];
    size_t                           argvlen[NGX_HTTP_DUKCAPIL_JOB_ARGS];
};


ngx_http_dukcapil_job_t *ngx_http_dukcapil_job_create(ngx_http_request_t *r,
    ngx_uint_t write, size_t size);
u_char *ngx_http_dukcapil_job_strdup(ngx_http_dukcapil_job_t *job,
    const u_char *s, size_t len);
void ngx_http_dukcapil_job_query(ngx_http_dukcapil_job_t *job,
    ngx_uint_t statement, int nparams, ngx_http_dukcapil_pg_done_pt done);
ngx_int_t ngx_http_dukcapil_job_row(ngx_http_dukcapil_job_t *job,
    PGresult *res);
void ngx_http_dukcapil_job_reply(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, json_t *json);
void ngx_http_dukcapil_job_reply_raw(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len);
void ngx_http_dukcapil_job_json_done(void *data, PGresult *res,
    ngx_uint_t backend);
void ngx_http_dukcapil_job_error(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, const char *error, const char *field);
void ngx_http_dukcapil_job_end(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len);
void ngx_http_dukcapil_job_free(ngx_http_dukcapil_job_t *job);
void ngx_http_dukcapil_job_exit_process(void);


#endif /* _NGX_HTTP_DUKCAPIL_JOB_H_INCLUDED_ */
