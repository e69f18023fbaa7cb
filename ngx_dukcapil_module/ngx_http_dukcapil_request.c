
/*
 * What a request brings, and the job that carries it to its answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_dukcapil_request.h"
#include "ngx_http_dukcapil_reply.h"
#include "nik.h"
#include "wib.h"


#define NGX_HTTP_DUKCAPIL_IDEMPOTENCY_PENDING  60
#define NGX_HTTP_DUKCAPIL_SPARE_POOLS          64


static ngx_int_t ngx_http_dukcapil_body_raw(ngx_http_request_t *r,
    ngx_str_t *raw, ngx_int_t *rc);
static json_t *ngx_http_dukcapil_body_parse(ngx_http_request_t *r,
    ngx_str_t *raw, ngx_int_t *rc);
static void ngx_http_dukcapil_job_request_gone(void *data);
static void ngx_http_dukcapil_job_cancel_ops(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_job_idempotency_reply(void *data,
    ngx_uint_t index, redisReply *reply);
static void ngx_http_dukcapil_job_idempotency_done(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_job_end(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len);
static void ngx_http_dukcapil_job_send(ngx_http_request_t *r,
    ngx_str_t *location, ngx_uint_t status, u_char *body, size_t len);
static void ngx_http_dukcapil_job_answer(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len);
static ngx_int_t ngx_http_dukcapil_job_remember(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len);
static void ngx_http_dukcapil_remember_reply(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_remembered(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_forgotten(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_sha256_hex(const u_char *data, size_t len,
    u_char hex[64]);


static ngx_str_t  ngx_http_dukcapil_json_type = ngx_string("application/json");

#define NGX_HTTP_DUKCAPIL_JSON_TAG  16

static ngx_pool_t  *ngx_http_dukcapil_json_pool;

/* pools of finished writes, kept for the next ones */
static ngx_pool_t  *ngx_http_dukcapil_spare[NGX_HTTP_DUKCAPIL_SPARE_POOLS];
static ngx_uint_t   ngx_http_dukcapil_nspare;


ngx_int_t
ngx_http_dukcapil_read_json(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *ct;

    ct = r->headers_in.content_type;

    if (ct == NULL
        || ct->value.len < sizeof("application/json") - 1
        || ngx_strncasecmp(ct->value.data, (u_char *) "application/json",
                           sizeof("application/json") - 1)
           != 0
        || (ct->value.len > sizeof("application/json") - 1
            && ct->value.data[sizeof("application/json") - 1] != ';'
            && ct->value.data[sizeof("application/json") - 1] != ' '))
    {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_dukcapil_send_error(r,
                                            NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                            "unsupported_media_type", NULL);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_DUKCAPIL_BODY_MAX) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->keepalive = 0;

        return ngx_http_dukcapil_send_error(r,
                                            NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                            "body_too_large", NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, post);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * The body as a JSON object, or NULL with *rc the answer already sent.
 */
json_t *
ngx_http_dukcapil_body_json(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc)
{
    if (ngx_http_dukcapil_body_raw(r, raw, rc) != NGX_OK) {
        return NULL;
    }

    return ngx_http_dukcapil_body_parse(r, raw, rc);
}


/*
 * The body's fields, or NGX_ERROR with *rc the answer already sent: read
 * in place when the body has the common shape, else by jansson.
 */
ngx_int_t
ngx_http_dukcapil_body_fields(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_http_dukcapil_body_t *body, ngx_int_t *rc)
{
    if (ngx_http_dukcapil_body_raw(r, raw, rc) != NGX_OK) {
        return NGX_ERROR;
    }

    body->n = dk_flat_json((char *) raw->data, raw->len, body->member,
                           NGX_HTTP_DUKCAPIL_BODY_FIELDS);

    if (body->n >= 0) {
        body->json = NULL;
        return NGX_OK;
    }

    body->json = ngx_http_dukcapil_body_parse(r, raw, rc);

    return body->json ? NGX_OK : NGX_ERROR;
}


/* as ngx_http_dukcapil_json_string() */

ngx_int_t
ngx_http_dukcapil_body_string(ngx_http_dukcapil_body_t *body,
    const char *key, ngx_str_t *value)
{
    int              i;
    size_t           len;
    dk_json_member  *m;

    if (body->json) {
        return ngx_http_dukcapil_json_string(body->json, key, value);
    }

    len = ngx_strlen(key);

    for (i = 0; i < body->n; i++) {
        m = &body->member[i];

        if (m->key_len == len && ngx_memcmp(m->key, key, len) == 0) {
            value->data = (u_char *) m->value;
            value->len = m->value_len;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The body's bytes in one buffer of the request's pool, or NGX_ERROR with
 * *rc the answer already sent.  A body that nginx wrote to a temporary
 * file is too large by definition: it is refused, never read back from
 * disk.
 */
static ngx_int_t
ngx_http_dukcapil_body_raw(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc)
{
    u_char                   *p;
    size_t                    len;
    ngx_buf_t                *b;
    ngx_chain_t              *cl;
    ngx_http_request_body_t  *rb;

    rb = r->request_body;
    len = 0;

    if (rb && rb->temp_file) {
        goto too_large;
    }

    for (cl = rb ? rb->bufs : NULL; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file && !ngx_buf_in_memory(b)) {
            goto too_large;
        }

        len += b->last - b->pos;
    }

    if (len > NGX_HTTP_DUKCAPIL_BODY_MAX) {
        goto too_large;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    raw->data = p;
    raw->len = len;

    for (cl = rb ? rb->bufs : NULL; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    return NGX_OK;

too_large:

    r->keepalive = 0;

    *rc = ngx_http_dukcapil_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "body_too_large", NULL);
    return NGX_ERROR;
}


/* the body as a JSON object, or NULL with *rc the answer already sent */

static json_t *
ngx_http_dukcapil_body_parse(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc)
{
    json_t        *json;
    json_error_t   err;

    /*
     * "\u0000" is valid JSON: it is let through to the field's own check,
     * which refuses it, since every value is handled with its length.
     * The tree is built in the request's pool and goes with it.
     */
    ngx_http_dukcapil_json_pool = r->pool;

    json = json_loadb((char *) raw->data, raw->len,
                      JSON_REJECT_DUPLICATES|JSON_ALLOW_NUL, &err);

    ngx_http_dukcapil_json_pool = NULL;

    if (json == NULL || !json_is_object(json)) {
        *rc = ngx_http_dukcapil_send_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_json", NULL);
        return NULL;
    }

    return json;
}


/*
 * jansson's allocator: while a body is parsed, from the request's pool (a
 * parse costs a dozen small allocations, on the hottest path there is);
 * otherwise from the heap.  A tag before each block tells free() which.
 */
void *
ngx_http_dukcapil_json_malloc(size_t size)
{
    u_char  *p;

    if (ngx_http_dukcapil_json_pool) {
        p = ngx_palloc(ngx_http_dukcapil_json_pool,
                       size + NGX_HTTP_DUKCAPIL_JSON_TAG);
        if (p == NULL) {
            return NULL;
        }

        p[0] = 'P';

    } else {
        p = malloc(size + NGX_HTTP_DUKCAPIL_JSON_TAG);
        if (p == NULL) {
            return NULL;
        }

        p[0] = 'M';
    }

    return p + NGX_HTTP_DUKCAPIL_JSON_TAG;
}


void
ngx_http_dukcapil_json_free(void *ptr)
{
    u_char  *p;

    if (ptr == NULL) {
        return;
    }

    p = (u_char *) ptr - NGX_HTTP_DUKCAPIL_JSON_TAG;

    if (p[0] == 'M') {
        free(p);
    }
}


/* NGX_OK, NGX_DECLINED when absent or null, NGX_ERROR when not a string */

ngx_int_t
ngx_http_dukcapil_json_string(json_t *obj, const char *key, ngx_str_t *value)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return NGX_DECLINED;
    }

    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    return NGX_OK;
}


/* a request header by name, or NULL */

static ngx_table_elt_t *
ngx_http_dukcapil_header(ngx_http_request_t *r, const char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* NGX_OK with the 16 digits, NGX_DECLINED when absent, NGX_ERROR if bad */

ngx_int_t
ngx_http_dukcapil_header_nik(ngx_http_request_t *r, u_char nik[16])
{
    ngx_table_elt_t  *h;

    h = ngx_http_dukcapil_header(r, "X-NIK", sizeof("X-NIK") - 1);

    if (h == NULL) {
        return NGX_DECLINED;
    }

    if (dk_nik_valid((char *) h->value.data, h->value.len) != 0) {
        return NGX_ERROR;
    }

    ngx_memcpy(nik, h->value.data, 16);

    return NGX_OK;
}


/* the code in the from_end-th segment of the path, counted from its end */

ngx_int_t
ngx_http_dukcapil_uri_code(ngx_http_request_t *r, ngx_uint_t from_end,
    char prefix, char code[DK_CODE_LEN + 1])
{
    u_char  *start, *end;

    end = r->uri.data + r->uri.len;

    if (end > r->uri.data && end[-1] == '/') {
        end--;
    }

    for ( ;; ) {
        start = end;

        while (start > r->uri.data && start[-1] != '/') {
            start--;
        }

        if (from_end-- == 0) {
            break;
        }

        if (start == r->uri.data) {
            return NGX_ERROR;
        }

        end = start - 1;
    }

    if (dk_code_normalize((char *) start, end - start, prefix, code) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_dukcapil_arg_date(ngx_http_request_t *r, char *name, size_t len,
    int32_t *day)
{
    ngx_str_t  value;

    if (ngx_http_arg(r, (u_char *) name, len, &value) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (dk_date_parse((char *) value.data, value.len, day) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


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


/*
 * Claims the Idempotency-Key, if the request has one, then goes on with
 * next.  One SET ... NX GET both claims a new key and returns an old one.
 */
void
ngx_http_dukcapil_job_start(ngx_http_dukcapil_job_t *job, ngx_str_t *body,
    ngx_http_dukcapil_job_pt next)
{
    u_char                        *p, *value, hash[64];
    ngx_str_t                      key;
    ngx_table_elt_t               *h;
    ngx_http_dukcapil_redis_op_t  *op;

    ngx_str_null(&key);

    h = ngx_http_dukcapil_header(job->request, "Idempotency-Key",
                                 sizeof("Idempotency-Key") - 1);
    if (h) {
        key = h->value;
    }

    if (key.data == NULL) {
        next(job);
        return;
    }

    if (key.len == 0 || key.len > 255) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                    "invalid_idempotency_key",
                                    "Idempotency-Key");
        return;
    }

    p = ngx_pnalloc(job->pool, sizeof("dk:idem:") - 1 + 64);
    value = ngx_pnalloc(job->pool, 2 + 64);
    if (p == NULL || value == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    ngx_http_dukcapil_sha256_hex(key.data, key.len, hash);
    job->idempotency_key.data = p;
    job->idempotency_key.len = ngx_cpymem(ngx_cpymem(p, "dk:idem:", 8),
                                          hash, 64)
                               - p;

    ngx_http_dukcapil_sha256_hex(body ? body->data : (u_char *) "",
                                 body ? body->len : 0, job->body_hash);

    ngx_memcpy(ngx_cpymem(value, "P|", 2), job->body_hash, 64);

    job->next = next;

    job->argv[0] = "SET";
    job->argv[1] = (char *) job->idempotency_key.data;
    job->argv[2] = (char *) value;
    job->argv[3] = "NX";
    job->argv[4] = "GET";
    job->argv[5] = "EX";
    job->argv[6] = "60";
    job->argvlen[0] = 3;
    job->argvlen[1] = job->idempotency_key.len;
    job->argvlen[2] = 2 + 64;
    job->argvlen[3] = 2;
    job->argvlen[4] = 3;
    job->argvlen[5] = 2;
    job->argvlen[6] = 2;

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_job_idempotency_reply,
                                    ngx_http_dukcapil_job_idempotency_done,
                                    job);
    if (op == NULL) {
        goto unavailable;
    }

    (void) ngx_http_dukcapil_redis_command(op, 7, job->argv, job->argvlen);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        goto unavailable;
    }

    job->redis = op;
    return;

unavailable:

    /* the key was not claimed: nothing to give back */
    job->idempotency_key.len = 0;
    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/*
 * "P|<body hash>" while the first request runs; "D|<body hash>|<status>|
 * <answer>" once it has answered.  The reply is copied: hiredis frees it.
 */
static void
ngx_http_dukcapil_job_idempotency_reply(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    if (reply->type == REDIS_REPLY_NIL) {
        return;                                 /* claimed */
    }

    job->found.len = 0;
    job->found.data = (u_char *) "";

    if (reply->type == REDIS_REPLY_STRING) {
        job->found.data = ngx_pnalloc(job->pool, reply->len);
        if (job->found.data) {
            ngx_memcpy(job->found.data, reply->str, reply->len);
            job->found.len = reply->len;
        }
    }
}


static void
ngx_http_dukcapil_job_idempotency_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char     *p, *last;
    ngx_int_t   status;

    job->redis = NULL;

    if (rc != NGX_OK) {
        ngx_str_null(&job->idempotency_key);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    if (job->found.data == NULL) {
        job->next(job);
        return;
    }

    /* the key is someone's already: its first answer is never overwritten */
    ngx_str_null(&job->idempotency_key);

    p = job->found.data;
    last = p + job->found.len;

    if (job->found.len < 2 + 64) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    if (ngx_memcmp(p + 2, job->body_hash, 64) != 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                    "idempotency_mismatch",
                                    "Idempotency-Key");
        return;
    }

    if (p[0] == 'P') {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT,
                                    "idempotency_in_progress", NULL);
        return;
    }

    p += 2 + 64 + 1;

    if (p + 4 > last || (status = ngx_atoi(p, 3)) == NGX_ERROR) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    p += 4;

    ngx_http_dukcapil_job_end(job, status, p, last - p);
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
 * An answer under an Idempotency-Key (but a 5xx) goes out once Redis holds
 * it for the key's retries: a client that has heard it and retries at
 * once, through another worker, hears it again, never "in progress".
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

    if (ngx_http_dukcapil_job_remember(job, status, body, len) == NGX_OK) {
        return;
    }

    ngx_http_dukcapil_job_end(job, status, body, len);
}


/*
 * The job is over: it lets go of its request and its ops, answers the
 * client if one is still there, and frees itself.  A read's job lives in
 * the request's pool, so nothing of it is touched after the answer.
 */
static void
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
        ngx_http_dukcapil_job_send(r, &job->location, status, body, len);
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
ngx_http_dukcapil_job_send(ngx_http_request_t *r, ngx_str_t *location,
    ngx_uint_t status, u_char *body, size_t len)
{
    u_char           *p;
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

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

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h) {
            h->hash = 1;
            ngx_str_set(&h->key, "Retry-After");
            ngx_str_set(&h->value, "1");
        }
    }

    rc = ngx_http_dukcapil_send_text(r, status, &ngx_http_dukcapil_json_type,
                                     p, len);

    ngx_http_dukcapil_finalize(r, rc);
}


/*
 * An answer is kept for the key's lifetime unless it was a fault: after a
 * 5xx the key is let go, so that a retry is served afresh, and the 5xx
 * does not wait for that (Redis may be the fault: a retry that comes too
 * soon hears "in progress" and comes again).  NGX_OK: the job waits for
 * Redis, and ngx_http_dukcapil_remembered ends it.
 */
static ngx_int_t
ngx_http_dukcapil_job_remember(ngx_http_dukcapil_job_t *job,
    ngx_uint_t status, u_char *body, size_t len)
{
    u_char                        *value, *p, ttl[NGX_TIME_T_LEN];
    ngx_uint_t                     fault;
    ngx_http_dukcapil_redis_op_t  *op;

    if (job->idempotency_key.len == 0 || job->pool == NULL) {
        return NGX_DECLINED;
    }

    fault = (status >= NGX_HTTP_INTERNAL_SERVER_ERROR);

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_remember_reply,
                                    fault ? ngx_http_dukcapil_forgotten
                                          : ngx_http_dukcapil_remembered,
                                    fault ? NULL : job);
    if (op == NULL) {
        return NGX_DECLINED;
    }

    job->argv[1] = (char *) job->idempotency_key.data;
    job->argvlen[1] = job->idempotency_key.len;

    if (fault) {
        job->argv[0] = "DEL";
        job->argvlen[0] = 3;
        (void) ngx_http_dukcapil_redis_command(op, 2, job->argv,
                                               job->argvlen);
        (void) ngx_http_dukcapil_redis_wait(op);
        return NGX_DECLINED;
    }

    value = ngx_pnalloc(job->pool, 2 + 64 + 1 + 4 + len);
    if (value == NULL) {
        ngx_http_dukcapil_redis_cancel(op);
        return NGX_DECLINED;
    }

    p = ngx_cpymem(value, "D|", 2);
    p = ngx_cpymem(p, job->body_hash, 64);
    p = ngx_sprintf(p, "|%03ui|", status);
    p = ngx_cpymem(p, body, len);

    job->argv[0] = "SET";
    job->argvlen[0] = 3;
    job->argv[2] = (char *) value;
    job->argvlen[2] = p - value;
    job->argv[3] = "EX";
    job->argvlen[3] = 2;
    job->argv[4] = (char *) ttl;
    job->argvlen[4] = ngx_sprintf(ttl, "%T", job->dmcf->idempotency_ttl)
                      - ttl;

    (void) ngx_http_dukcapil_redis_command(op, 5, job->argv, job->argvlen);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        return NGX_DECLINED;
    }

    job->remember = op;

    return NGX_OK;
}


static void
ngx_http_dukcapil_remember_reply(void *data, ngx_uint_t index,
    redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: redis answered \"%s\"", reply->str);
    }
}


static void
ngx_http_dukcapil_forgotten(void *data, ngx_int_t rc)
{
}


/* stored or not (a retry then hears "in progress" until the key expires) */

static void
ngx_http_dukcapil_remembered(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    job->remember = NULL;

    ngx_http_dukcapil_job_end(job, job->status, job->answer.data,
                              job->answer.len);
}


static void
ngx_http_dukcapil_sha256_hex(const u_char *data, size_t len, u_char hex[64])
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  n;

    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        ngx_memset(hex, '0', 64);
        return;
    }

    ngx_hex_dump(hex, md, 32);
}
