
/*
 * The job: a request's way to its answer, through Redis and PostgreSQL.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_reply.h"


#define NGX_HTTP_DUKCAPIL_SPARE_POOLS  64


static void ngx_http_dukcapil_job_request_gone(void *data);
static void ngx_http_dukcapil_job_cancel_ops(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_job_answer(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len);
static void ngx_http_dukcapil_job_send(ngx_http_request_t *r,
    ngx_http_dukcapil_job_t *job, ngx_uint_t status, u_char *body,
    size_t len);


static ngx_str_t  ngx_http_dukcapil_json_type = ngx_string("application/json");

/* pools of finished writes, kept for the next ones */
static ngx_pool_t  *ngx_http_dukcapil_spare[NGX_HTTP_DUKCAPIL_SPARE_POOLS];
static ngx_uint_t   ngx_http_dukcapil_nspare;


/*
 * A job with size bytes of zeroed state in job->data: in the request's
 * pool for a read, in a pool of its own for a write.
 */
ngx_http_dukcapil_job_t *
ngx_http_dukcapil_job_create(ngx_http_request_t *r, ngx_uint_t write,
    size_t size)
{
    ngx_pool_t               *pool;
    ngx_http_cleanup_t       *cln;
    ngx_http_dukcapil_job_t  *job;

    pool = NULL;

    if (write) {
        pool = ngx_http_dukcapil_nspare
               ? ngx_http_dukcapil_spare[--ngx_http_dukcapil_nspare]
               : ngx_create_pool(2048, ngx_cycle->log);
        if (pool == NULL) {
            return NULL;
        }
    }

    job = ngx_pcalloc(pool ? pool : r->pool,
                      sizeof(ngx_http_dukcapil_job_t) + size);

    cln = job ? ngx_http_cleanup_add(r, 0) : NULL;

    if (cln == NULL) {
        if (pool) {
            ngx_destroy_pool(pool);
        }
        return NULL;
    }

    job->pool = pool;
    job->request = r;
    job->log = ngx_cycle->log;
    job->dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);
    job->cleanup = cln;
    job->data = size ? (u_char *) job + sizeof(ngx_http_dukcapil_job_t)
                     : NULL;

    cln->handler = ngx_http_dukcapil_job_request_gone;
    cln->data = job;

    /* notice a client that goes away while the job waits */
    r->read_event_handler = ngx_http_test_reading;

    return job;
}


static void
ngx_http_dukcapil_job_request_gone(void *data)
{
    ngx_http_dukcapil_job_t  *job = data;

    job->request = NULL;
    job->cleanup = NULL;

    if (job->pool) {
        /* a write goes on to its end without its client */
        return;
    }

    ngx_http_dukcapil_job_cancel_ops(job);
}


/* the job stops waiting: what Redis or PostgreSQL answers later is dropped */

static void
ngx_http_dukcapil_job_cancel_ops(ngx_http_dukcapil_job_t *job)
{
    if (job->redis) {
        ngx_http_dukcapil_redis_cancel(job->redis);
        job->redis = NULL;
    }

    if (job->pg) {
        ngx_http_dukcapil_pg_cancel(job->pg);
        job->pg = NULL;
    }
}


u_char *
ngx_http_dukcapil_job_strdup(ngx_http_dukcapil_job_t *job, const u_char *s,
    size_t len)
{
    u_char  *p;

    p = ngx_pnalloc(job->pool ? job->pool : job->request->pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


/* sends a statement with the job's values; done hears of a failure too */

void
ngx_http_dukcapil_job_query(ngx_http_dukcapil_job_t *job,
    ngx_uint_t statement, int nparams, ngx_http_dukcapil_pg_done_pt done)
{
    job->pg = ngx_http_dukcapil_pg_query(statement, nparams, job->values,
                                         NULL, done, job);
    if (job->pg == NULL) {
        done(job, NULL, 0);
    }
}


/*
 * A statement that reads one row: NGX_OK when it is there; otherwise the
 * job has answered (503 without an answer, 404 without the row).
 */
ngx_int_t
ngx_http_dukcapil_job_row(ngx_http_dukcapil_job_t *job, PGresult *res)
{
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return NGX_DONE;
    }

    if (PQntuples(res) != 1) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_NOT_FOUND, "not_found",
                                    NULL);
        return NGX_DONE;
    }

    return NGX_OK;
}


void
ngx_http_dukcapil_job_error(ngx_http_dukcapil_job_t *job, ngx_uint_t status,
    const char *error, const char *field)
{
    ngx_http_dukcapil_job_reply(job, status,
                                ngx_http_dukcapil_error_json(error, field));
}


/* an answer already in JSON, in memory that lives as long as the job */

void
ngx_http_dukcapil_job_reply_raw(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len)
{
    ngx_http_dukcapil_job_answer(job, status, body, len);
}


/*
 * A statement whose one value is the whole answer, JSON that PostgreSQL
 * wrote (the display, the delivery budget): 200 with it, 503 without it.
 */
void
ngx_http_dukcapil_job_json_done(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char  *body;
    size_t   len;

    job->pg = NULL;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1)
    {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    len = PQgetlength(res, 0, 0);

    body = ngx_pnalloc(job->pool ? job->pool : job->request->pool, len + 1);
    if (body == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    ngx_memcpy(body, PQgetvalue(res, 0, 0), len);
    body[len++] = '\n';

    ngx_http_dukcapil_job_answer(job, NGX_HTTP_OK, body, len);
}


/* the job's answer: sent if the client is still there, kept for retries */

void
ngx_http_dukcapil_job_reply(ngx_http_dukcapil_job_t *job, ngx_uint_t status,
    json_t *json)
{
    u_char  *body;
    size_t   len;

    len = json ? json_dumpb(json, NULL, 0, JSON_COMPACT) : 0;

    body = (len == 0) ? NULL
                      : ngx_pnalloc(job->pool ? job->pool : job->request->pool,
                                    len + 1);

    if (body == NULL) {
        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        len = 0;

    } else {
        (void) json_dumpb(json, (char *) body, len, JSON_COMPACT);
        body[len++] = '\n';
    }

    if (json) {
        json_decref(json);
    }

    ngx_http_dukcapil_job_answer(job, status, body, len);
}


/*
 * The job's answer, kept first for its Idempotency-Key's retries if it
 * holds one (ngx_http_dukcapil_idempotency.c).
 */
static void
ngx_http_dukcapil_job_answer(ngx_http_dukcapil_job_t *job, ngx_uint_t status,
    u_char *body, size_t len)
{
    /* nothing the job waited for matters now */
    ngx_http_dukcapil_job_cancel_ops(job);

    job->status = status;
    job->answer.data = body;
    job->answer.len = len;

    if (job->store && job->store(job) == NGX_OK) {
        return;
    }

    ngx_http_dukcapil_job_end(job, status, body, len);
}


/*
 * The job is over: it lets go of its request and its ops, answers the
 * client if one is still there, and frees itself.  A read's job lives in
 * the request's pool, so nothing of it is touched after the answer.
 */
void
ngx_http_dukcapil_job_end(ngx_http_dukcapil_job_t *job, ngx_uint_t status,
    u_char *body, size_t len)
{
    ngx_pool_t          *pool;
    ngx_http_request_t  *r;

    pool = job->pool;
    r = job->request;
    job->request = NULL;

    /* job->location outlives the answer only in a kept job's pool */

    if (job->cleanup) {
        job->cleanup->handler = NULL;
        job->cleanup = NULL;
    }

    ngx_http_dukcapil_job_cancel_ops(job);

    if (r) {
        ngx_http_dukcapil_job_send(r, job, status, body, len);
    }

    if (pool && !job->keep) {
        ngx_http_dukcapil_job_free(job);
    }
}


/* a write's job ends here: its pool is kept for the next one */

void
ngx_http_dukcapil_job_free(ngx_http_dukcapil_job_t *job)
{
    ngx_pool_t  *pool;

    pool = job->pool;

    if (ngx_http_dukcapil_nspare == NGX_HTTP_DUKCAPIL_SPARE_POOLS) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_reset_pool(pool);
    ngx_http_dukcapil_spare[ngx_http_dukcapil_nspare++] = pool;
}


/* at the worker's exit, after Redis and PostgreSQL have ended their jobs */

void
ngx_http_dukcapil_job_exit_process(void)
{
    while (ngx_http_dukcapil_nspare) {
        ngx_destroy_pool(ngx_http_dukcapil_spare[--ngx_http_dukcapil_nspare]);
    }
}


static void
ngx_http_dukcapil_job_send(ngx_http_request_t *r, ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len)
{
    u_char           *p, *wait;
    ngx_int_t         rc;
    ngx_str_t        *location;
    ngx_table_elt_t  *h;

    location = &job->location;

    /* the answer must outlive the job: it is sent from the request's pool */

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ngx_http_dukcapil_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(p, body, len);

    if (status == NGX_HTTP_CREATED && location->len) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            ngx_http_dukcapil_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Location");
        h->value.len = location->len;
        h->value.data = ngx_pstrdup(r->pool, location);
        if (h->value.data == NULL) {
            ngx_http_dukcapil_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE && job->retry_after == 0) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h) {
            h->hash = 1;
            ngx_str_set(&h->key, "Retry-After");
            ngx_str_set(&h->value, "1");
        }
    }

    /* 409 too: a request still in progress under the same key */
    if ((status == NGX_HTTP_TOO_MANY_REQUESTS
         || status == NGX_HTTP_SERVICE_UNAVAILABLE
         || status == NGX_HTTP_CONFLICT)
        && job->retry_after > 0)
    {
        h = ngx_list_push(&r->headers_out.headers);
        wait = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);

        if (h && wait) {
            h->hash = 1;
            ngx_str_set(&h->key, "Retry-After");
            h->value.data = wait;
            h->value.len = ngx_sprintf(wait, "%T", job->retry_after) - wait;
        }
    }

    rc = ngx_http_dukcapil_send_text(r, status,
                                     job->type ? job->type
                                               : &ngx_http_dukcapil_json_type,
                                     p, len);

    ngx_http_dukcapil_finalize(r, rc);
}

