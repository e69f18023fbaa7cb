
/*
 * An operator settles the address of a post application: the kecamatan
 * that neither the kelurahan nor the postal code decided, confirmed (the
 * document can then be batched), or the document to be picked up at an
 * office instead.  Recorded in the history with the operator, as any step.
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
#include "address.h"


typedef struct {
    char                 code[DK_CODE_LEN + 1];
} ngx_http_dukcapil_ops_address_t;


static void ngx_http_dukcapil_ops_address_body(ngx_http_request_t *r);
static const char *ngx_http_dukcapil_ops_address_parse(ngx_http_request_t *r,
    json_t *json, const char **kecamatan, ngx_http_dukcapil_office_t **office);
static void ngx_http_dukcapil_ops_address_send(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_ops_address_done(void *data, PGresult *res,
    ngx_uint_t backend);


/*
 * POST /api/v1/ops/applications/{code}/address
 *     {"kecamatan": "Binawidya"}  or  {"method": "pickup", "office": "mpp"}
 */
ngx_int_t
ngx_http_dukcapil_ops_address_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_ops_write(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_ops_address_body);
}


static void
ngx_http_dukcapil_ops_address_body(ngx_http_request_t *r)
{
    json_t                           *json;
    ngx_str_t                         raw;
    const char                       *field, *kecamatan;
    ngx_http_dukcapil_job_t          *job;
    ngx_http_dukcapil_office_t       *office;
    ngx_http_dukcapil_ops_address_t  *ops;
    char                              code[DK_CODE_LEN + 1];

    json = ngx_http_dukcapil_ops_step_body(r, 'P', &raw, code);
    if (json == NULL) {
        return;
    }

    field = ngx_http_dukcapil_ops_address_parse(r, json, &kecamatan, &office);
    if (field) {
        ngx_http_finalize_request(r, ngx_http_dukcapil_send_invalid(r, field));
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1,
                                       sizeof(ngx_http_dukcapil_ops_address_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ops = job->data;
    ngx_memcpy(ops->code, code, sizeof(code));

    /* the kecamatan's code is domain/'s, the office's the configuration's */
    job->values[0] = ops->code;
    job->values[1] = kecamatan;
    job->values[2] = office ? (char *) office->code.data : NULL;
    job->values[3] = ngx_http_dukcapil_actor(job);

    ngx_http_dukcapil_idempotency_claim(job, &raw,
                                        ngx_http_dukcapil_ops_address_send);
}


/*
 * Either a kecamatan of today (a name or its code, never an old name such
 * as Tampan: that is what needed confirming) or method "pickup" with one of
 * the configured offices, not both; answers the first field at fault.
 */
static const char *
ngx_http_dukcapil_ops_address_parse(ngx_http_request_t *r, json_t *json,
    const char **kecamatan, ngx_http_dukcapil_office_t **office)
{
    ngx_int_t                       rc;
    ngx_str_t                       v;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    *kecamatan = NULL;
    *office = NULL;

    rc = ngx_http_dukcapil_json_string(json, "method", &v);

    if (rc == NGX_DECLINED) {
        if (ngx_http_dukcapil_json_string(json, "kecamatan", &v) != NGX_OK) {
            return "kecamatan";
        }

        *kecamatan = dk_kecamatan_find((char *) v.data, v.len);

        return *kecamatan ? NULL : "kecamatan";
    }

    if (rc != NGX_OK || v.len != 6 || ngx_strncmp(v.data, "pickup", 6) != 0
        || json_object_get(json, "kecamatan") != NULL)
    {
        return "method";
    }

    if (ngx_http_dukcapil_json_string(json, "office", &v) != NGX_OK) {
        return "office";
    }

    *office = ngx_http_dukcapil_office(dmcf, &v);

    return *office ? NULL : "office";
}


static void
ngx_http_dukcapil_ops_address_send(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPLICATION_ADDRESS,
                                4, ngx_http_dukcapil_ops_address_done);
}


static void
ngx_http_dukcapil_ops_address_done(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t                           *json, *delivery;
    const char                       *outcome;
    ngx_http_dukcapil_ops_address_t  *ops;

    job->pg = NULL;
    ops = job->data;

    outcome = ngx_http_dukcapil_ops_outcome(job, res);
    if (outcome == NULL) {
        return;
    }

    /* picked up already, batched, rejected: nothing left to settle */
    if (ngx_strcmp(outcome, "closed") == 0) {
        json = ngx_http_dukcapil_error_json("delivery_closed", NULL);
        json_object_set_new(json, "status",
                            json_string(PQgetvalue(res, 0, 1)));
        json_object_set_new(json, "method",
                            json_string(PQgetvalue(res, 0, 2)));
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_CONFLICT, json);
        return;
    }

    delivery = json_pack("{s:s}", "method", PQgetvalue(res, 0, 2));

    if (delivery && !PQgetisnull(res, 0, 3)) {
        json_object_set_new(delivery, "kecamatan",
                            json_string(PQgetvalue(res, 0, 3)));
    }

    if (delivery && !PQgetisnull(res, 0, 4)) {
        json_object_set_new(delivery, "office",
                            json_string(PQgetvalue(res, 0, 4)));
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s, s:s, s:o*}",
                                          "code", ops->code,
                                          "status", PQgetvalue(res, 0, 1),
                                          "delivery", delivery));
}
