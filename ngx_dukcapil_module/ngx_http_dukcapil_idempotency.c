
/*
 * Idempotency-Key: claimed before a write does anything, its answer kept
 * for the retries.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_dukcapil_idempotency.h"
#include "ngx_http_dukcapil_body.h"
#include "keys.h"


/*
 * A claim lasts as long as its request may run (the claim, the decision,
 * the INSERT and the answer's store, each within its timeout) and a margin:
 * a claim whose own answer was lost (Redis paused or slow) frees itself
 * that soon, and a retry is then decided afresh.
 */
#define NGX_HTTP_DUKCAPIL_CLAIM_MARGIN  5

/* and while its outcome is settled (settle.c gives up after two minutes) */
#define NGX_HTTP_DUKCAPIL_SETTLE_TTL   "180"

/* a key: 16 to 64 of [A-Za-z0-9_-]; a UUID fits */
#define NGX_HTTP_DUKCAPIL_KEY_MIN      16
#define NGX_HTTP_DUKCAPIL_KEY_MAX      64


typedef struct {
    ngx_str_t                     key;       /* dk:idem:<endpoint>:<key> */
    u_char                        body_hash[64];
    u_char                        claim[2 + 64 + 1];    /* "P|<hash>" */
    u_char                        ttl[NGX_TIME_T_LEN + 1];
    ngx_str_t                     found;     /* the key's stored value */
    ngx_http_dukcapil_job_pt      next;
} ngx_http_dukcapil_idempotency_t;


static void ngx_http_dukcapil_idempotency_found(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_idempotency_claimed(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_dukcapil_idempotency_store(
    ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_idempotency_stored(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_dukcapil_idempotency_key_valid(ngx_str_t *key);
static void ngx_http_dukcapil_sha256_hex(const u_char *data, size_t len,
    u_char hex[64]);


/*
 * Reads the request's Idempotency-Key into job->idempotency: its Redis key,
 * the claim's value "P|<body hash>" and the claim's lifetime, nothing sent.
 * NGX_OK: prepared; NGX_DECLINED: the request has none; NGX_DONE: the job
 * is answered (a malformed key, 422; no memory, 503).
 */
ngx_int_t
ngx_http_dukcapil_idempotency_prepare(ngx_http_dukcapil_job_t *job,
    ngx_str_t *body)
{
    u_char                           *p;
    ngx_str_t                        *endpoint;
    ngx_table_elt_t                  *h;
    ngx_http_dukcapil_loc_conf_t     *dlcf;
    ngx_http_dukcapil_idempotency_t  *idem;

    h = ngx_http_dukcapil_header(job->request, "Idempotency-Key",
                                 sizeof("Idempotency-Key") - 1);
    if (h == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_dukcapil_idempotency_key_valid(&h->value) != NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                    "invalid_idempotency_key",
                                    "Idempotency-Key");
        return NGX_DONE;
    }

    dlcf = ngx_http_get_module_loc_conf(job->request,
                                        ngx_http_dukcapil_module);
    endpoint = &dlcf->endpoint->name;

    idem = ngx_pcalloc(job->pool, sizeof(ngx_http_dukcapil_idempotency_t));
    p = ngx_pnalloc(job->pool, sizeof(DK_KEY_IDEMPOTENCY_PREFIX) - 1
                               + endpoint->len + 1 + h->value.len + 1);

    if (idem == NULL || p == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return NGX_DONE;
    }

    idem->key.data = p;
    p = ngx_cpymem(p, DK_KEY_IDEMPOTENCY_PREFIX,
                   sizeof(DK_KEY_IDEMPOTENCY_PREFIX) - 1);
    p = ngx_cpymem(p, endpoint->data, endpoint->len);
    *p++ = ':';
    p = ngx_cpymem(p, h->value.data, h->value.len);
    idem->key.len = p - idem->key.data;
    *p = '\0';

    ngx_http_dukcapil_sha256_hex(body ? body->data : (u_char *) "",
                                 body ? body->len : 0, idem->body_hash);

    ngx_memcpy(ngx_cpymem(idem->claim, "P|", 2), idem->body_hash, 64);

    *ngx_sprintf(idem->ttl, "%T",
                 (time_t) ((3 * job->dmcf->redis_timeout
                            + job->dmcf->pg_timeout) / 1000
                           + NGX_HTTP_DUKCAPIL_CLAIM_MARGIN)) = '\0';

    job->idempotency = idem;

    return NGX_OK;
}


/*
 * What a script that claims the key itself (lua/book.lua) is handed: the
 * key, the claim's value and its lifetime in seconds, NUL-terminated.
 */
void
ngx_http_dukcapil_idempotency_args(ngx_http_dukcapil_job_t *job,
    const char **key, const char **claim, const char **ttl)
{
    ngx_http_dukcapil_idempotency_t  *idem;

    idem = job->idempotency;

    *key = (char *) idem->key.data;
    *claim = (char *) idem->claim;
    *ttl = (char *) idem->ttl;
}


/* the script claimed the key: the job's answer is kept under it */
void
ngx_http_dukcapil_idempotency_claimed_by_script(ngx_http_dukcapil_job_t *job)
{
    job->store = ngx_http_dukcapil_idempotency_store;
}


/*
 * Claims the Idempotency-Key, if the request has one, then goes on with
 * next.  One SET ... NX GET both claims a new key and returns an old one.
 * Each endpoint has keys of its own: the same key on a booking and on an
 * application are two keys.  A key prepared already (body NULL) is claimed
 * as it was prepared.
 */
void
ngx_http_dukcapil_idempotency_claim(ngx_http_dukcapil_job_t *job,
    ngx_str_t *body, ngx_http_dukcapil_job_pt next)
{
    ngx_int_t                         rc;
    ngx_http_dukcapil_redis_op_t     *op;
    ngx_http_dukcapil_idempotency_t  *idem;

    if (job->idempotency == NULL) {
        rc = ngx_http_dukcapil_idempotency_prepare(job, body);

        if (rc == NGX_DECLINED) {
            next(job);
            return;
        }

        if (rc != NGX_OK) {
            return;
        }
    }

    idem = job->idempotency;
    idem->next = next;
    idem->found.data = NULL;

    job->argv[0] = "SET";
    job->argv[1] = (char *) idem->key.data;
    job->argv[2] = (char *) idem->claim;
    job->argv[3] = "NX";
    job->argv[4] = "GET";
    job->argv[5] = "EX";
    job->argv[6] = (char *) idem->ttl;
    job->argvlen[0] = 3;
    job->argvlen[1] = idem->key.len;
    job->argvlen[2] = 2 + 64;
    job->argvlen[3] = 2;
    job->argvlen[4] = 3;
    job->argvlen[5] = 2;
    job->argvlen[6] = ngx_strlen(idem->ttl);

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_idempotency_found,
                                    ngx_http_dukcapil_idempotency_claimed,
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
    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/* the key's old value, if it had one: copied, hiredis frees the reply */

static void
ngx_http_dukcapil_idempotency_found(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_idempotency_t  *idem;

    idem = job->idempotency;

    if (reply->type == REDIS_REPLY_NIL) {
        return;                                 /* claimed */
    }

    idem->found.len = 0;
    idem->found.data = (u_char *) "";

    if (reply->type == REDIS_REPLY_STRING) {
        idem->found.data = ngx_pnalloc(job->pool, reply->len);
        if (idem->found.data) {
            ngx_memcpy(idem->found.data, reply->str, reply->len);
            idem->found.len = reply->len;
        }
    }
}


static void
ngx_http_dukcapil_idempotency_claimed(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                           *p, *last;
    ngx_int_t                         status;
    ngx_http_dukcapil_idempotency_t  *idem;

    job->redis = NULL;
    idem = job->idempotency;

    if (rc != NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    if (idem->found.data == NULL) {
        /* the key is the job's: its answer will be kept under it */
        job->store = ngx_http_dukcapil_idempotency_store;
        idem->next(job);
        return;
    }

    /* the key is someone's already: its first answer is never overwritten */

    p = idem->found.data;
    last = p + idem->found.len;

    if (idem->found.len < 2 + 64) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    if (ngx_memcmp(p + 2, idem->body_hash, 64) != 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                    "idempotency_mismatch",
                                    "Idempotency-Key");
        return;
    }

    if (p[0] == 'P') {
        /* the first request's answer comes within its timeouts */
        job->retry_after = 1;
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


/*
 * Only an answer that did something is kept for the key's lifetime.  After
 * a 4xx, which took nothing, or a 5xx, the key is let go, so that a retry
 * is decided afresh (and rejected requests cost Redis no memory).  A 5xx
 * does not wait for that (Redis may be the fault: a retry that comes too
 * soon hears "in progress" and comes again); any other answer goes out
 * once Redis holds it: a client that has heard it and retries at once,
 * through another worker, hears it again, never "in progress".  While the
 * outcome of the job is unknown (job->unsettled), the claim is held until
 * it is settled, and the answer given then is stored.  NGX_OK: the job
 * waits for Redis, and ngx_http_dukcapil_idempotency_stored ends it.
 */
static ngx_int_t
ngx_http_dukcapil_idempotency_store(ngx_http_dukcapil_job_t *job)
{
    u_char                           *value, *p, ttl[NGX_TIME_T_LEN];
    ngx_uint_t                        fault, forget;
    ngx_http_dukcapil_redis_op_t     *op;
    ngx_http_dukcapil_idempotency_t  *idem;

    idem = job->idempotency;

    fault = (job->status >= NGX_HTTP_INTERNAL_SERVER_ERROR);
    forget = (job->status >= NGX_HTTP_BAD_REQUEST);

    if (job->unsettled) {
        /* the claim outlives the 503, and job->store the next answer */
        fault = 1;
        forget = 0;

    } else {
        /* one answer is stored, the first */
        job->store = NULL;
    }

    /* in the background for a 5xx: the 5xx does not wait */
    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_redis_log_error,
                            fault ? NULL : ngx_http_dukcapil_idempotency_stored,
                            fault ? NULL : job);
    if (op == NULL) {
        return NGX_DECLINED;
    }

    job->argv[1] = (char *) idem->key.data;
    job->argvlen[1] = idem->key.len;

    if (forget) {
        job->argv[0] = "DEL";
        job->argvlen[0] = 3;
        (void) ngx_http_dukcapil_redis_command(op, 2, job->argv,
                                               job->argvlen);
        goto sent;
    }

    if (job->unsettled) {
        /* still claimed, by the same body: a retry hears "in progress" */
        job->argv[0] = "SET";
        job->argvlen[0] = 3;
        job->argv[2] = (char *) idem->claim;
        job->argvlen[2] = 2 + 64;
        job->argv[3] = "EX";
        job->argvlen[3] = 2;
        job->argv[4] = NGX_HTTP_DUKCAPIL_SETTLE_TTL;
        job->argvlen[4] = sizeof(NGX_HTTP_DUKCAPIL_SETTLE_TTL) - 1;

        (void) ngx_http_dukcapil_redis_command(op, 5, job->argv,
                                               job->argvlen);
        goto sent;
    }

    value = ngx_pnalloc(job->pool, 2 + 64 + 1 + 4 + job->answer.len);
    if (value == NULL) {
        ngx_http_dukcapil_redis_cancel(op);
        return NGX_DECLINED;
    }

    p = ngx_cpymem(value, "D|", 2);
    p = ngx_cpymem(p, idem->body_hash, 64);
    p = ngx_sprintf(p, "|%03ui|", job->status);
    p = ngx_cpymem(p, job->answer.data, job->answer.len);

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

sent:

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK || fault) {
        return NGX_DECLINED;
    }

    job->storing = op;

    return NGX_OK;
}


/* stored or not (a retry then hears "in progress" until the claim ends) */

static void
ngx_http_dukcapil_idempotency_stored(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    job->storing = NULL;

    ngx_http_dukcapil_job_end(job, job->status, job->answer.data,
                              job->answer.len);
}


static ngx_int_t
ngx_http_dukcapil_idempotency_key_valid(ngx_str_t *key)
{
    u_char      c;
    ngx_uint_t  i;

    if (key->len < NGX_HTTP_DUKCAPIL_KEY_MIN
        || key->len > NGX_HTTP_DUKCAPIL_KEY_MAX)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < key->len; i++) {
        c = key->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
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
