
/*
 * GET /api/v1/health: both stores asked for real, at once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"


typedef struct {
    ngx_uint_t   pending;
    const char  *redis;
    const char  *postgres;
} ngx_http_dukcapil_health_t;


static void ngx_http_dukcapil_health_ping(void *data, ngx_uint_t index,
    redisReply *reply);
static void ngx_http_dukcapil_health_redis_done(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_health_pg_done(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_health_reply(ngx_http_dukcapil_job_t *job);


/* asks both stores for real, at once: PING and SELECT 1 */

ngx_int_t
ngx_http_dukcapil_health_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    const char                    *argv[1];
    ngx_http_dukcapil_job_t       *job;
    ngx_http_dukcapil_health_t    *health;
    ngx_http_dukcapil_redis_op_t  *op;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_health_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    health = job->data;
    health->redis = "ok";
    health->postgres = "ok";
    health->pending = 2;

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_health_ping,
                                    ngx_http_dukcapil_health_redis_done, job);
    argv[0] = "PING";

    if (op) {
        (void) ngx_http_dukcapil_redis_command(op, 1, argv, NULL);
    }

    if (op == NULL || ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        health->redis = "down";
        health->pending--;

    } else {
        job->redis = op;
    }

    job->pg = ngx_http_dukcapil_pg_query(NGX_HTTP_DUKCAPIL_SQL_PING, 0, NULL,
                                         NULL,
                                         ngx_http_dukcapil_health_pg_done,
                                         job);
    if (job->pg == NULL) {
        health->postgres = "down";
        health->pending--;
    }

    r->main->count++;

    if (health->pending == 0) {
        ngx_http_dukcapil_health_reply(job);
    }

    return NGX_DONE;
}


static void
ngx_http_dukcapil_health_ping(void *data, ngx_uint_t index,
    redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_health_t  *health;

    health = job->data;

    if (reply->type != REDIS_REPLY_STATUS
        || ngx_strcmp(reply->str, "PONG") != 0)
    {
        health->redis = "down";
    }
}


static void
ngx_http_dukcapil_health_redis_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_health_t  *health;

    health = job->data;
    job->redis = NULL;

    if (rc != NGX_OK) {
        health->redis = "down";
    }

    if (--health->pending == 0) {
        ngx_http_dukcapil_health_reply(job);
    }
}


static void
ngx_http_dukcapil_health_pg_done(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_health_t  *health;

    health = job->data;
    job->pg = NULL;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        health->postgres = "down";
    }

    if (--health->pending == 0) {
        ngx_http_dukcapil_health_reply(job);
    }
}


static void
ngx_http_dukcapil_health_reply(ngx_http_dukcapil_job_t *job)
{
    ngx_uint_t                   status;
    ngx_http_dukcapil_health_t  *health;

    health = job->data;

    status = (health->redis[0] == 'o' && health->postgres[0] == 'o')
             ? NGX_HTTP_OK : NGX_HTTP_SERVICE_UNAVAILABLE;

    ngx_http_dukcapil_job_reply(job, status,
                                json_pack("{s:s, s:s}",
                                          "redis", health->redis,
                                          "postgres", health->postgres));
}
