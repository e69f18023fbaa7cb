
/*
 * The back office: operators move applications along and set a day's
 * quota (the counter's steps: ngx_http_dukcapil_counter.c; the reads:
 * ngx_http_dukcapil_backoffice.c).  nginx authenticates them (auth_basic,
 * allow and deny); $remote_user is the actor the audit trail records.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_idempotency.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_ops.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_util.h"
#include "keys.h"
#include "name.h"
#include "wib.h"


typedef struct {
    char                 code[DK_CODE_LEN + 1];
    char                 date[DK_DATE_LEN + 1];
    char                 quota[NGX_INT_T_LEN + 1];
    ngx_str_t            office;
    ngx_uint_t           service;
    char                 key[DK_KEY_MAX];
    char                 field[DK_KEY_MAX];
    u_char               expire[NGX_INT64_LEN + 1];
} ngx_http_dukcapil_ops_t;


static void ngx_http_dukcapil_ops_status_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_ops_status_send(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_ops_status_done(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_ops_quota_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_ops_quota_send(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_ops_quota_stored(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_ops_quota_done(void *data, ngx_int_t rc);


static const char  *ngx_http_dukcapil_statuses[] = {
    "submitted", "verified", "processing", "completed", "rejected",
    "batched", "in_transit", "delivered", "returned", "awaiting_pickup",
    "picked_up", NULL
};


/* POST /api/v1/ops/applications/{code}/status  {status, note?} */

ngx_int_t
ngx_http_dukcapil_ops_status_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_ops_write(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_ops_status_body);
}


static void
ngx_http_dukcapil_ops_status_body(ngx_http_request_t *r)
{
    json_t                   *json;
    ngx_int_t                 rc;
    ngx_str_t                 raw, status, note;
    const char               *to;
    ngx_http_dukcapil_ops_t  *ops;
    ngx_http_dukcapil_job_t  *job;
    char                      code[DK_CODE_LEN + 1];

    json = ngx_http_dukcapil_ops_step_body(r, 'P', &raw, code);
    if (json == NULL) {
        return;
    }

    if (ngx_http_dukcapil_json_string(json, "status", &status) != NGX_OK) {
        goto invalid_status;
    }

    to = ngx_http_dukcapil_ops_status(&status);
    if (to == NULL) {
        goto invalid_status;
    }

    /* an empty note is no note */
    rc = ngx_http_dukcapil_json_string(json, "note", &note);

    if (rc == NGX_OK && note.len == 0) {
        rc = NGX_DECLINED;
    }

    /* a rejection is told to its citizen with its note as the reason */
    if (rc == NGX_ERROR
        || (rc == NGX_OK && dk_text_valid((char *) note.data, note.len, 1000)
                            != 0)
        || (rc != NGX_OK && ngx_strcmp(to, "rejected") == 0))
    {
        ngx_http_finalize_request(r, ngx_http_dukcapil_send_invalid(r,
                                                                    "note"));
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1, sizeof(ngx_http_dukcapil_ops_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ops = job->data;
    ngx_memcpy(ops->code, code, sizeof(code));

    job->values[0] = ops->code;
    job->values[1] = to;
    job->values[2] = ngx_http_dukcapil_actor(job);
    job->values[3] = (rc == NGX_OK && note.len)
                     ? (char *) ngx_http_dukcapil_job_strdup(job, note.data,
                                                             note.len)
                     : NULL;

    ngx_http_dukcapil_idempotency_claim(job, &raw,
                                        ngx_http_dukcapil_ops_status_send);
    return;

invalid_status:

    ngx_http_finalize_request(r, ngx_http_dukcapil_send_invalid(r, "status"));
}


static void
ngx_http_dukcapil_ops_status_send(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_job_query(job,
                                NGX_HTTP_DUKCAPIL_SQL_APPLICATION_TRANSITION,
                                4, ngx_http_dukcapil_ops_status_done);
}


static void
ngx_http_dukcapil_ops_status_done(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t                   *json;
    const char               *outcome, *status;
    ngx_http_dukcapil_ops_t  *ops;

    job->pg = NULL;
    ops = job->data;

    outcome = ngx_http_dukcapil_ops_outcome(job, res);
    if (outcome == NULL) {
        return;
    }

    status = PQgetvalue(res, 0, 1);

    if (ngx_strcmp(outcome, "conflict") == 0) {
        json = ngx_http_dukcapil_error_json("invalid_transition", NULL);
        json_object_set_new(json, "status", json_string(status));
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_CONFLICT, json);
        return;
    }

    /* the delivery's own step: the delivery-batch's or the courier's */
    if (ngx_strcmp(outcome, "reserved") == 0) {
        json = ngx_http_dukcapil_error_json("delivery_status_reserved", NULL);
        json_object_set_new(json, "status", json_string(status));
        json_object_set_new(json, "set_by",
                            json_string(PQgetvalue(res, 0, 2)));
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_CONFLICT, json);
        return;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s, s:s}", "code", ops->code,
                                          "status", status));
}


/* an application's status by its name, or NULL: none such */

const char *
ngx_http_dukcapil_ops_status(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_dukcapil_statuses[i]; i++) {
        if (ngx_strlen(ngx_http_dukcapil_statuses[i]) == name->len
            && ngx_strncmp(ngx_http_dukcapil_statuses[i], name->data,
                           name->len)
               == 0)
        {
            return ngx_http_dukcapil_statuses[i];
        }
    }

    return NULL;
}


/* PUT /api/v1/ops/quota  {office, service, date, quota} */

ngx_int_t
ngx_http_dukcapil_ops_quota_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_ops_write(r, NGX_HTTP_PUT,
                                       ngx_http_dukcapil_ops_quota_body);
}


static void
ngx_http_dukcapil_ops_quota_body(ngx_http_request_t *r)
{
    json_t                         *json, *q;
    int32_t                         day;
    ngx_int_t                       rc, s;
    ngx_str_t                       raw, v;
    const char                     *field;
    ngx_http_dukcapil_job_t        *job;
    ngx_http_dukcapil_ops_t        *ops;
    ngx_http_dukcapil_office_t     *office;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    json = ngx_http_dukcapil_body_json(r, &raw, &rc);
    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    field = "office";
    if (ngx_http_dukcapil_json_string(json, "office", &v) != NGX_OK
        || (office = ngx_http_dukcapil_office(dmcf, &v)) == NULL)
    {
        goto invalid;
    }

    field = "service";
    if (ngx_http_dukcapil_json_string(json, "service", &v) != NGX_OK
        || (s = ngx_http_dukcapil_service_index(&v)) == NGX_ERROR
        || !dmcf->services[s].enabled)
    {
        goto invalid;
    }

    /* today too: a quota lowered on the day admits no one new */
    field = "date";
    if (ngx_http_dukcapil_json_string(json, "date", &v) != NGX_OK
        || dk_date_parse((char *) v.data, v.len, &day) != 0
        || day < ngx_http_dukcapil_today())
    {
        goto invalid;
    }

    field = "quota";
    q = json_object_get(json, "quota");
    if (!json_is_integer(q) || json_integer_value(q) < 0
        || json_integer_value(q) > 100000)
    {
        goto invalid;
    }

    job = ngx_http_dukcapil_job_create(r, 1, sizeof(ngx_http_dukcapil_ops_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ops = job->data;
    ops->office = office->code;
    ops->service = s;
    dk_date_format(day, ops->date);
    ngx_snprintf((u_char *) ops->quota, sizeof(ops->quota), "%i%Z",
                 (ngx_int_t) json_integer_value(q));
    ngx_snprintf(ops->expire, sizeof(ops->expire), "%L%Z",
                 (int64_t) dk_key_day_expiry(day));

    if (dk_key_day(ops->key, sizeof(ops->key), (char *) ops->office.data,
                   ops->office.len, ops->date, DK_DAY_COUNTS)
        < 0
        || dk_key_field(ops->field, sizeof(ops->field), DK_FIELD_QUOTA,
                        (char *) ngx_http_dukcapil_service_codes[s].data,
                        ngx_http_dukcapil_service_codes[s].len)
           < 0)
    {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    job->values[0] = (char *) ops->office.data;
    job->values[1] = (char *) ngx_http_dukcapil_service_codes[s].data;
    job->values[2] = ops->date;
    job->values[3] = ops->quota;
    job->values[4] = ngx_http_dukcapil_actor(job);

    ngx_http_dukcapil_idempotency_claim(job, &raw,
                                        ngx_http_dukcapil_ops_quota_send);
    return;

invalid:

    ngx_http_finalize_request(r, ngx_http_dukcapil_send_invalid(r, field));
}


/* PostgreSQL first: it is the record of truth that reconcile restores */

static void
ngx_http_dukcapil_ops_quota_send(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_QUOTA_SET, 5,
                                ngx_http_dukcapil_ops_quota_stored);
}


static void
ngx_http_dukcapil_ops_quota_stored(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_ops_t       *ops;
    ngx_http_dukcapil_redis_op_t  *op;

    job->pg = NULL;
    ops = job->data;

    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_redis_log_error,
                                    ngx_http_dukcapil_ops_quota_done, job);
    if (op == NULL) {
        ngx_http_dukcapil_ops_quota_done(job, NGX_ERROR);
        return;
    }

    job->argv[0] = "HSET";
    job->argv[1] = ops->key;
    job->argv[2] = ops->field;
    job->argv[3] = ops->quota;
    job->argv[4] = "EXPIREAT";
    job->argv[5] = ops->key;
    job->argv[6] = (char *) ops->expire;

    (void) ngx_http_dukcapil_redis_command(op, 4, job->argv, NULL);
    (void) ngx_http_dukcapil_redis_command(op, 3, job->argv + 4, NULL);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        ngx_http_dukcapil_ops_quota_done(job, NGX_ERROR);
        return;
    }

    job->redis = op;
}


static void
ngx_http_dukcapil_ops_quota_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_ops_t  *ops;

    job->redis = NULL;
    ops = job->data;

    if (rc != NGX_OK) {
        /* stored, not yet applied: reconcile applies it, a retry too */
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
        json_pack("{s:s%, s:s, s:s, s:i}",
                  "office", ops->office.data, ops->office.len,
                  "service", ngx_http_dukcapil_service_codes[ops->service].data,
                  "date", ops->date,
                  "quota", atoi(ops->quota)));
}


/*
 * An operator's step: a JSON body of method, sent from the service's own
 * pages or by no browser at all.
 */
ngx_int_t
ngx_http_dukcapil_ops_write(ngx_http_request_t *r, ngx_uint_t method,
    ngx_http_client_body_handler_pt post)
{
    if (ngx_http_dukcapil_same_origin(r) != NGX_OK) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_dukcapil_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "cross_site_request", NULL);
    }

    return ngx_http_dukcapil_read_json(r, method, post);
}


/* the operator nginx authenticated, for the audit trail */

const char *
ngx_http_dukcapil_actor(ngx_http_dukcapil_job_t *job)
{
    ngx_http_request_t  *r;

    r = job->request;

    if (ngx_http_auth_basic_user(r) != NGX_OK
        || r->headers_in.user.len == 0 || r->headers_in.user.len > 100)
    {
        return "operator";
    }

    return (char *) ngx_http_dukcapil_job_strdup(job, r->headers_in.user.data,
                                                 r->headers_in.user.len);
}


/*
 * The JSON body of an operator's step on the {code} of its URI, an
 * appointment's ('A') or an application's ('P'); NULL once r is finalized
 * with the error (400 for the body, 404 for the code).
 */

json_t *
ngx_http_dukcapil_ops_step_body(ngx_http_request_t *r, u_char letter,
    ngx_str_t *raw, char *code)
{
    json_t     *json;
    ngx_int_t   rc;

    json = ngx_http_dukcapil_body_json(r, raw, &rc);
    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return NULL;
    }

    if (ngx_http_dukcapil_uri_code(r, 1, letter, code) != NGX_OK) {
        ngx_http_finalize_request(r,
            ngx_http_dukcapil_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         NULL));
        return NULL;
    }

    return json;
}


/*
 * The outcome of a step's statement, the first column of its first row (the
 * SQL functions answer 'ok', 'not_found' or a refusal of their own); NULL
 * once the job is answered: 503 when PostgreSQL gave no row, 404 for
 * 'not_found'.
 */

const char *
ngx_http_dukcapil_ops_outcome(ngx_http_dukcapil_job_t *job, PGresult *res)
{
    const char  *outcome;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) == 0)
    {
        if (res && PQresultStatus(res) != PGRES_TUPLES_OK) {
            ngx_log_error(NGX_LOG_ERR, job->log, 0,
                          "dukcapil: operator's step refused by postgres: %s",
                          ngx_http_dukcapil_pg_error(res));
        }

        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return NULL;
    }

    outcome = PQgetvalue(res, 0, 0);

    if (ngx_strcmp(outcome, "not_found") == 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_NOT_FOUND, "not_found",
                                    NULL);
        return NULL;
    }

    return outcome;
}
