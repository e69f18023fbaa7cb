
/*
 * Applications: a citizen submits one and follows it to the door.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_idempotency.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_token.h"
#include "ngx_http_dukcapil_util.h"
#include "address.h"
#include "name.h"
#include "nik.h"
#include "phone.h"
#include "wib.h"


#define NGX_HTTP_DUKCAPIL_APP_PARAMS  17


typedef struct {
    char            code[DK_CODE_LEN + 1];
    u_char          nik[17];
    u_char          kk[17];
    char            phone[DK_PHONE_MAX];
    char            today[DK_DATE_LEN + 1];
    ngx_str_t       text[NGX_HTTP_DUKCAPIL_APP_PARAMS];
} ngx_http_dukcapil_application_t;


/* the statement's parameters, in the order of dk_application_insert */
enum {
    APP_CODE = 0, APP_SERVICE, APP_NIK, APP_KK, APP_NAME, APP_PHONE,
    APP_METHOD, APP_OFFICE, APP_STREET, APP_RT, APP_RW, APP_KELURAHAN,
    APP_KECAMATAN, APP_POSTAL_CODE, APP_KECAMATAN_CODE, APP_CONFIRM,
    APP_TODAY
};


static void ngx_http_dukcapil_application_body(ngx_http_request_t *r);
static const char *ngx_http_dukcapil_application_parse(ngx_http_request_t *r,
    json_t *json, ngx_http_dukcapil_application_t *app);
static ngx_int_t ngx_http_dukcapil_application_number(json_t *json,
    const char *key, int (*valid)(const char *s, size_t len), u_char *to,
    ngx_str_t *text);
static const char *ngx_http_dukcapil_application_address(json_t *address,
    ngx_http_dukcapil_application_t *app, ngx_pool_t *pool);
static ngx_int_t ngx_http_dukcapil_text(json_t *obj, const char *key,
    ngx_str_t *value);
static void ngx_http_dukcapil_application_submit(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_application_inserted(void *data, PGresult *res,
    ngx_uint_t backend);
static json_t *ngx_http_dukcapil_application_no_budget(
    ngx_http_dukcapil_job_t *job, const char *suggested);
static void ngx_http_dukcapil_application_got(void *data, PGresult *res,
    ngx_uint_t backend);


/* POST /api/v1/applications */

ngx_int_t
ngx_http_dukcapil_applications_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_read_json(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_application_body);
}


static void
ngx_http_dukcapil_application_body(ngx_http_request_t *r)
{
    json_t                           *json;
    ngx_int_t                         rc;
    ngx_str_t                         raw, token;
    ngx_uint_t                        i;
    const char                       *field;
    ngx_http_dukcapil_job_t          *job;
    ngx_http_dukcapil_application_t  *app;

    json = ngx_http_dukcapil_body_json(r, &raw, &rc);
    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    app = ngx_pcalloc(r->pool, sizeof(ngx_http_dukcapil_application_t));
    if (app == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    field = ngx_http_dukcapil_application_parse(r, json, app);

    /* the body's own fields first, then the proof of its phone */
    if (field == NULL) {
        field = "phone_token";
        rc = ngx_http_dukcapil_json_string(json, "phone_token", &token);

        if (ngx_http_dukcapil_token_check(r, rc == NGX_OK ? &token : NULL,
                                          app->phone)
            == NGX_OK)
        {
            field = NULL;
        }
    }

    if (field) {
        ngx_http_finalize_request(r, ngx_http_dukcapil_send_invalid(r, field));
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1,
                                       sizeof(ngx_http_dukcapil_application_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(job->data, app, sizeof(ngx_http_dukcapil_application_t));
    app = job->data;

    /* the body's strings die with the request: the job keeps copies */
    for (i = 0; i < NGX_HTTP_DUKCAPIL_APP_PARAMS; i++) {
        if (app->text[i].data == NULL) {
            job->values[i] = NULL;
            continue;
        }

        job->values[i] = (char *) ngx_http_dukcapil_job_strdup(job,
                                             app->text[i].data,
                                             app->text[i].len);
        if (job->values[i] == NULL) {
            ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "unavailable", NULL);
            return;
        }
    }

    if (ngx_http_dukcapil_code('P', app->code) != NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    job->values[APP_CODE] = app->code;

    /* the budget period holding today decides a post application */
    dk_date_format(ngx_http_dukcapil_today(), app->today);
    job->values[APP_TODAY] = app->today;

    ngx_http_dukcapil_idempotency_claim(job, &raw,
                                ngx_http_dukcapil_application_submit);
}


/* the fields in the order of the contract; answers the first at fault */

static const char *
ngx_http_dukcapil_application_parse(ngx_http_request_t *r, json_t *json,
    ngx_http_dukcapil_application_t *app)
{
    json_t                         *delivery, *address;
    ngx_int_t                       s;
    ngx_str_t                       v;
    const char                     *p;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    if (ngx_http_dukcapil_application_number(json, "nik", dk_nik_valid,
                                             app->nik, &app->text[APP_NIK])
        != NGX_OK)
    {
        return "nik";
    }

    if (ngx_http_dukcapil_application_number(json, "kk", dk_kk_valid,
                                             app->kk, &app->text[APP_KK])
        != NGX_OK)
    {
        return "kk";
    }

    if (ngx_http_dukcapil_json_string(json, "name", &v) != NGX_OK) {
        return "name";
    }

    p = (const char *) v.data;
    v.len = dk_trim(&p, v.len);

    if (dk_name_valid(p, v.len) != 0) {
        return "name";
    }

    app->text[APP_NAME].data = (u_char *) p;
    app->text[APP_NAME].len = v.len;

    if (ngx_http_dukcapil_json_string(json, "phone", &v) != NGX_OK
        || dk_phone_normalize((char *) v.data, v.len, app->phone) < 0)
    {
        return "phone";
    }

    app->text[APP_PHONE].data = (u_char *) app->phone;
    app->text[APP_PHONE].len = ngx_strlen(app->phone);

    if (ngx_http_dukcapil_json_string(json, "service", &v) != NGX_OK
        || (s = ngx_http_dukcapil_service_index(&v)) == NGX_ERROR)
    {
        return "service";
    }

    app->text[APP_SERVICE] = ngx_http_dukcapil_service_codes[s];

    delivery = json_object_get(json, "delivery");

    if (!json_is_object(delivery)
        || ngx_http_dukcapil_json_string(delivery, "method", &v) != NGX_OK)
    {
        return "delivery";
    }

    if (v.len == 6 && ngx_strncmp(v.data, "pickup", 6) == 0) {
        ngx_str_set(&app->text[APP_METHOD], "pickup");

        if (ngx_http_dukcapil_json_string(delivery, "office", &v) != NGX_OK
            || ngx_http_dukcapil_office(dmcf, &v) == NULL)
        {
            return "office";
        }

        app->text[APP_OFFICE] = ngx_http_dukcapil_office(dmcf, &v)->code;
        ngx_str_set(&app->text[APP_CONFIRM], "false");

        return NULL;
    }

    if (v.len != 4 || ngx_strncmp(v.data, "post", 4) != 0) {
        return "delivery";
    }

    ngx_str_set(&app->text[APP_METHOD], "post");

    address = json_object_get(delivery, "address");

    if (!json_is_object(address)) {
        return "address";
    }

    return ngx_http_dukcapil_application_address(address, app, r->pool);
}


/* a NIK or a KK number: 16 digits, copied into to */

static ngx_int_t
ngx_http_dukcapil_application_number(json_t *json, const char *key,
    int (*valid)(const char *s, size_t len), u_char *to, ngx_str_t *text)
{
    ngx_str_t  v;

    if (ngx_http_dukcapil_json_string(json, key, &v) != NGX_OK
        || valid((char *) v.data, v.len) != 0)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(to, v.data, 16);
    text->data = to;
    text->len = 16;

    return NGX_OK;
}


/*
 * A home delivery needs an address the courier can find.  What the
 * citizen wrote is kept beside the kecamatan it maps to.
 */
static const char *
ngx_http_dukcapil_application_address(json_t *address,
    ngx_http_dukcapil_application_t *app, ngx_pool_t *pool)
{
    u_char               *p;
    ngx_str_t             v[6];
    ngx_uint_t            i;
    dk_address_t          a;
    dk_address_result_t   res;

    static const char  *fields[] = {
        "street", "rt", "rw", "kelurahan", "kecamatan", "postal_code"
    };

    for (i = 0; i < 6; i++) {
        if (ngx_http_dukcapil_text(address, fields[i], &v[i]) != NGX_OK) {
            return fields[i];
        }
    }

    a.street = (char *) v[0].data;
    a.street_len = v[0].len;
    a.rt = (char *) v[1].data;
    a.rt_len = v[1].len;
    a.rw = (char *) v[2].data;
    a.rw_len = v[2].len;
    a.kelurahan = (char *) v[3].data;
    a.kelurahan_len = v[3].len;
    a.kecamatan = (char *) v[4].data;
    a.kecamatan_len = v[4].len;
    a.postal_code = (char *) v[5].data;
    a.postal_code_len = v[5].len;

    if (dk_address_check(&a, &res) != 0) {
        return res.field ? res.field : "address";
    }

    app->text[APP_STREET] = v[0];
    app->text[APP_KELURAHAN] = v[3];
    app->text[APP_KECAMATAN] = v[4];
    app->text[APP_POSTAL_CODE] = v[5];

    p = ngx_pnalloc(pool, 8);
    if (p == NULL) {
        return "address";
    }

    ngx_memcpy(p, res.rt, 4);
    ngx_memcpy(p + 4, res.rw, 4);
    app->text[APP_RT].data = p;
    app->text[APP_RT].len = 3;
    app->text[APP_RW].data = p + 4;
    app->text[APP_RW].len = 3;

    if (res.kecamatan_code) {
        app->text[APP_KECAMATAN_CODE].data = (u_char *) res.kecamatan_code;
        app->text[APP_KECAMATAN_CODE].len = ngx_strlen(res.kecamatan_code);
    }

    if (res.needs_confirmation) {
        ngx_str_set(&app->text[APP_CONFIRM], "true");

    } else {
        ngx_str_set(&app->text[APP_CONFIRM], "false");
    }

    return NULL;
}


/* a string field, trimmed: NGX_OK, or NGX_ERROR when absent or not text */

static ngx_int_t
ngx_http_dukcapil_text(json_t *obj, const char *key, ngx_str_t *value)
{
    const char  *p;

    if (ngx_http_dukcapil_json_string(obj, key, value) != NGX_OK) {
        return NGX_ERROR;
    }

    p = (const char *) value->data;
    value->len = dk_trim(&p, value->len);
    value->data = (u_char *) p;

    return NGX_OK;
}


static void
ngx_http_dukcapil_application_submit(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPLICATION_INSERT,
                                NGX_HTTP_DUKCAPIL_APP_PARAMS,
                                ngx_http_dukcapil_application_inserted);
}


static void
ngx_http_dukcapil_application_inserted(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                           *p;
    const char                       *outcome;
    ngx_http_dukcapil_application_t  *app;

    job->pg = NULL;
    app = job->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1)
    {
        if (res) {
            ngx_log_error(NGX_LOG_ERR, job->log, 0,
                          "dukcapil: application %s refused by postgres: %s",
                          app->code, ngx_http_dukcapil_pg_error(res));
        }

        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    outcome = PQgetvalue(res, 0, 0);

    if (ngx_strcmp(outcome, "budget_exhausted") == 0) {
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
            ngx_http_dukcapil_application_no_budget(job,
                                                    PQgetvalue(res, 0, 1)));
        return;
    }

    p = ngx_pnalloc(job->pool, sizeof("/api/v1/applications/") - 1
                               + DK_CODE_LEN);
    if (p) {
        job->location.data = p;
        job->location.len = ngx_sprintf(p, "/api/v1/applications/%s",
                                        app->code)
                            - p;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_CREATED,
                                json_pack("{s:s, s:s}", "code", app->code,
                                          "status", "submitted"));
}


/*
 * 422 delivery_budget_exhausted: no delivery by post this period, and the
 * offices to pick the document up at instead, the one of the citizen's
 * kecamatan (or the MPP) first.
 */
static json_t *
ngx_http_dukcapil_application_no_budget(ngx_http_dukcapil_job_t *job,
    const char *suggested)
{
    json_t                      *json, *offices, *office;
    ngx_str_t                    code;
    ngx_uint_t                   i;
    ngx_http_dukcapil_office_t  *o, *first;

    json = ngx_http_dukcapil_error_json("delivery_budget_exhausted",
                                        "delivery");
    offices = json_array();

    if (json == NULL || offices == NULL) {
        json_decref(json);
        json_decref(offices);
        return NULL;
    }

    code.data = (u_char *) suggested;
    code.len = ngx_strlen(suggested);
    first = ngx_http_dukcapil_office(job->dmcf, &code);

    o = job->dmcf->offices->elts;

    for (i = 0; i < job->dmcf->offices->nelts; i++) {
        office = json_pack("{s:s%, s:s%}",
                           "code", o[i].code.data, o[i].code.len,
                           "name", o[i].name.data, o[i].name.len);

        if (&o[i] == first) {
            json_array_insert_new(offices, 0, office);

        } else {
            json_array_append_new(offices, office);
        }
    }

    json_object_set_new(json, "pickup_offices", offices);

    return json;
}


/* GET /api/v1/applications/{code}, with X-NIK */

ngx_int_t
ngx_http_dukcapil_application_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_http_dukcapil_job_t          *job;
    ngx_http_dukcapil_application_t  *app;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    app = ngx_pcalloc(r->pool, sizeof(ngx_http_dukcapil_application_t));
    if (app == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_dukcapil_header_nik(r, app->nik) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "invalid_nik", "X-NIK");
    }

    if (ngx_http_dukcapil_uri_code(r, 0, 'P', app->code) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found", NULL);
    }

    job = ngx_http_dukcapil_job_create(r, 0, 0);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->data = app;
    job->values[0] = app->code;
    job->values[1] = (char *) app->nik;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPLICATION_GET, 2,
                                ngx_http_dukcapil_application_got);

    return NGX_DONE;
}


static void
ngx_http_dukcapil_application_got(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t  *json;

    job->pg = NULL;

    if (ngx_http_dukcapil_job_row(job, res) != NGX_OK) {
        return;
    }

    /* PostgreSQL built the answer; parsing it checks that it is JSON */
    json = json_loadb(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), 0, NULL);

    ngx_http_dukcapil_job_reply(job, json ? NGX_HTTP_OK
                                          : NGX_HTTP_INTERNAL_SERVER_ERROR,
                                json);
}
