
/*
 * GET and DELETE /api/v1/appointments/{code}, with X-NIK: a citizen reads
 * an appointment, or cancels it and its slot goes back at once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_admission.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_util.h"


typedef struct {
    ngx_http_dukcapil_appointment_t   appointment;
    char                              today[DK_DATE_LEN + 1];
} ngx_http_dukcapil_cancel_t;


static ngx_int_t ngx_http_dukcapil_appointment_lookup(ngx_http_request_t *r,
    ngx_uint_t write, ngx_http_dukcapil_job_t **jobp);
static ngx_int_t ngx_http_dukcapil_appointment_get(ngx_http_request_t *r);
static void ngx_http_dukcapil_appointment_got(void *data, PGresult *res,
    ngx_uint_t backend);
static ngx_int_t ngx_http_dukcapil_appointment_cancel(ngx_http_request_t *r);
static void ngx_http_dukcapil_appointment_cancelled(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_appointment_released(void *data, ngx_int_t rc);


ngx_int_t
ngx_http_dukcapil_appointment_handler(ngx_http_request_t *r)
{
    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_dukcapil_appointment_get(r);
    }

    if (r->method == NGX_HTTP_DELETE) {
        return ngx_http_dukcapil_appointment_cancel(r);
    }

    return NGX_HTTP_NOT_ALLOWED;
}


/* *jobp is NULL when the answer has been given already: rc is its own */

static ngx_int_t
ngx_http_dukcapil_appointment_lookup(ngx_http_request_t *r, ngx_uint_t write,
    ngx_http_dukcapil_job_t **jobp)
{
    ngx_int_t                         rc;
    ngx_http_dukcapil_job_t          *job;
    ngx_http_dukcapil_appointment_t  *a;
    char                              code[DK_CODE_LEN + 1];
    u_char                            nik[16];

    *jobp = NULL;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_dukcapil_header_nik(r, nik) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "invalid_nik", "X-NIK");
    }

    /* a malformed code is as unknown as a wrong one */
    if (ngx_http_dukcapil_uri_code(r, 0, 'A', code) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found", NULL);
    }

    job = ngx_http_dukcapil_job_create(r, write,
                                       sizeof(ngx_http_dukcapil_cancel_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a = job->data;
    ngx_memcpy(a->code, code, sizeof(code));
    ngx_memcpy(a->nik, nik, 16);

    job->values[0] = a->code;
    job->values[1] = (char *) a->nik;

    *jobp = job;

    return NGX_OK;
}


static ngx_int_t
ngx_http_dukcapil_appointment_get(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_dukcapil_job_t  *job;

    rc = ngx_http_dukcapil_appointment_lookup(r, 0, &job);
    if (job == NULL) {
        return rc;
    }

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_GET, 2,
                                ngx_http_dukcapil_appointment_got);

    return NGX_DONE;
}


static void
ngx_http_dukcapil_appointment_got(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t  *json;

    job->pg = NULL;

    if (ngx_http_dukcapil_job_row(job, res) != NGX_OK) {
        return;
    }

    json = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}",
                     "code", PQgetvalue(res, 0, 0),
                     "status", PQgetvalue(res, 0, 1),
                     "queue_number", atoi(PQgetvalue(res, 0, 2)),
                     "office", PQgetvalue(res, 0, 3),
                     "service", PQgetvalue(res, 0, 4),
                     "date", PQgetvalue(res, 0, 5));

    /* cancelled_by_office: why, as the office wrote it */
    if (json && !PQgetisnull(res, 0, 6)) {
        json_object_set_new(json, "reason",
                            json_string(PQgetvalue(res, 0, 6)));
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK, json);
}


static ngx_int_t
ngx_http_dukcapil_appointment_cancel(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_dukcapil_job_t     *job;
    ngx_http_dukcapil_cancel_t  *cancel;

    rc = ngx_http_dukcapil_appointment_lookup(r, 1, &job);
    if (job == NULL) {
        return rc;
    }

    cancel = job->data;
    dk_date_format(ngx_http_dukcapil_today(), cancel->today);
    job->values[2] = cancel->today;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_CANCEL,
                                3, ngx_http_dukcapil_appointment_cancelled);

    return NGX_DONE;
}


static void
ngx_http_dukcapil_appointment_cancelled(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    char                             *status;
    ngx_http_dukcapil_appointment_t  *a;

    job->pg = NULL;
    a = job->data;

    if (ngx_http_dukcapil_job_row(job, res) != NGX_OK) {
        return;
    }

    status = PQgetvalue(res, 0, 0);

    if (PQgetvalue(res, 0, 1)[0] == 't') {
        /* committed: now the slot goes back at once */
        a->office.len = PQgetlength(res, 0, 2);
        a->office.data = ngx_http_dukcapil_job_strdup(job,
                                     (u_char *) PQgetvalue(res, 0, 2),
                                     a->office.len);
        ngx_cpystrn((u_char *) a->date, (u_char *) PQgetvalue(res, 0, 4),
                    sizeof(a->date));

        /* the release needs the day's keys and the code, nothing more */
        if (a->office.data && ngx_http_dukcapil_admission_keys(a) == NGX_OK) {
            ngx_http_dukcapil_admission_release(job, a,
                                      ngx_http_dukcapil_appointment_released,
                                      job);
            return;
        }

        status = "cancelled";

    } else if (ngx_strcmp(status, "checked_in") == 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT, "checked_in",
                                    NULL);
        return;

    } else if (ngx_strcmp(status, "cancelled") != 0) {
        /* a no-show, or a day already past */
        ngx_http_dukcapil_job_error(job, NGX_HTTP_CONFLICT,
                                    "appointment_closed", NULL);
        return;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s, s:s}", "code", a->code,
                                          "status", status));
}


static void
ngx_http_dukcapil_appointment_released(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_appointment_t  *a;

    job->redis = NULL;
    a = job->data;

    if (rc != NGX_OK) {
        /* cancelled all the same: reconcile frees the slot */
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: cancellation %s: release failed, "
                      "left to reconcile", a->code);
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s, s:s}", "code", a->code,
                                          "status", "cancelled"));
}
