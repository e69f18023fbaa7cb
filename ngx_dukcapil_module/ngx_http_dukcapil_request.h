
/*
 * What a request brings (JSON body, X-NIK, the code in the URI, query
 * arguments) and the job that carries a write to its end.
 *
 * A read is abandoned when its client goes away.  A write is not: its job
 * lives in a pool of its own, so a booking whose client vanished still
 * commits or gives its slot back, and its answer is still kept for the
 * Idempotency-Key that a retry will bring.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REQUEST_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <hiredis/hiredis.h>

#include "ngx_http_dukcapil_module.h"
#include "ngx_http_dukcapil_redis.h"
#include "ngx_http_dukcapil_pg.h"
#include "code.h"
#include "flat_json.h"


typedef struct ngx_http_dukcapil_job_s  ngx_http_dukcapil_job_t;

typedef void (*ngx_http_dukcapil_job_pt)(ngx_http_dukcapil_job_t *job);


/*
 * A JSON body whose string fields are read by name.  The shape nearly
 * every client sends, one object of plain ASCII strings, is read where it
 * lies (domain/flat_json.c); any other goes through jansson, which also
 * answers for malformed JSON.  At the 07:00 rush jansson's parse was a
 * tenth of a worker's time.
 */
#define NGX_HTTP_DUKCAPIL_BODY_FIELDS  16

typedef struct {
    json_t                          *json;       /* NULL: read in place */
    int                              n;
    dk_json_member                   member[NGX_HTTP_DUKCAPIL_BODY_FIELDS];
} ngx_http_dukcapil_body_t;


struct ngx_http_dukcapil_job_s {
    ngx_pool_t                      *pool;       /* own pool: a write */
    ngx_http_request_t              *request;    /* NULL: client gone */
    ngx_log_t                       *log;
    ngx_http_dukcapil_main_conf_t   *dmcf;

    ngx_http_dukcapil_redis_op_t    *redis;
    ngx_http_dukcapil_pg_op_t       *pg;

    /* the answer, while Redis stores it for the key's retries */
    ngx_http_dukcapil_redis_op_t    *remember;
    ngx_uint_t                       status;
    ngx_str_t                        answer;

    /* "dk:idem:<sha256 of the key>" and the sha256 of the body, in hex */
    ngx_str_t                        idempotency_key;
    u_char                           body_hash[64];
    ngx_str_t                        found;      /* the key's stored value */
    ngx_http_dukcapil_job_pt         next;
    ngx_http_cleanup_t              *cleanup;
    ngx_str_t                        location;   /* of a 201 */

    /* the endpoint's own state */
    void                            *data;

    /* the answer does not end the job: its owner frees it later */
    unsigned                         keep:1;

    /* up to 16 statement parameters, alive as long as the job */
    const char                      *values[16];
    int                              lengths[16];

    /* Redis command arguments, alive as long as the job */
    const char                      *argv[24];
    size_t                           argvlen[24];
};


void *ngx_http_dukcapil_json_malloc(size_t size);
void ngx_http_dukcapil_json_free(void *ptr);
ngx_int_t ngx_http_dukcapil_read_json(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post);
json_t *ngx_http_dukcapil_body_json(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc);
ngx_int_t ngx_http_dukcapil_json_string(json_t *obj, const char *key,
    ngx_str_t *value);
ngx_int_t ngx_http_dukcapil_body_fields(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_http_dukcapil_body_t *body, ngx_int_t *rc);
ngx_int_t ngx_http_dukcapil_body_string(ngx_http_dukcapil_body_t *body,
    const char *key, ngx_str_t *value);

ngx_int_t ngx_http_dukcapil_header_nik(ngx_http_request_t *r,
    u_char nik[16]);
ngx_int_t ngx_http_dukcapil_uri_code(ngx_http_request_t *r,
    ngx_uint_t from_end, char prefix, char code[DK_CODE_LEN + 1]);
ngx_int_t ngx_http_dukcapil_arg_date(ngx_http_request_t *r, char *name,
    size_t len, int32_t *day);

ngx_http_dukcapil_job_t *ngx_http_dukcapil_job_create(ngx_http_request_t *r,
    ngx_uint_t write, size_t size);
void ngx_http_dukcapil_job_start(ngx_http_dukcapil_job_t *job,
    ngx_str_t *body, ngx_http_dukcapil_job_pt next);
void ngx_http_dukcapil_job_reply(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, json_t *json);
void ngx_http_dukcapil_job_reply_raw(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len);
void ngx_http_dukcapil_job_query(ngx_http_dukcapil_job_t *job,
    ngx_uint_t statement, int nparams, ngx_http_dukcapil_pg_done_pt done);
ngx_int_t ngx_http_dukcapil_job_row(ngx_http_dukcapil_job_t *job,
    PGresult *res);
void ngx_http_dukcapil_job_error(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, const char *error, const char *field);
void ngx_http_dukcapil_job_free(ngx_http_dukcapil_job_t *job);
void ngx_http_dukcapil_job_exit_process(void);
u_char *ngx_http_dukcapil_job_strdup(ngx_http_dukcapil_job_t *job,
    const u_char *s, size_t len);


#endif /* _NGX_HTTP_DUKCAPIL_REQUEST_H_INCLUDED_ */
