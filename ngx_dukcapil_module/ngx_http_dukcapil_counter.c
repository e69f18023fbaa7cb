
/*
 * The queue at the office (issue 15): a citizen checked in on the date of
 * the appointment, called to a counter (loket), then served, recalled or
 * absent.  PostgreSQL only: the citizens' rush (Redis and its booking
 * script) is never asked anything.  Every step is a row of
 * appointment_history, written by the database with the operator nginx
 * authenticated as its actor (sql/013_counter.sql).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_ops.h"
#include "ngx_http_dukcapil_pg.h"
#include "ngx_http_dukcapil_queue.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_util.h"
#include "keys.h"
#include "wib.h"


/* a counter's name: [0-9A-Za-z-]{1,16} */
#define NGX_HTTP_DUKCAPIL_COUNTER_LEN  16

/* "{ktp,kk,...}": every service once, and its commas and braces */
#define NGX_HTTP_DUKCAPIL_SERVICES_LEN  80


typedef struct {
    char                 code[DK_CODE_LEN + 1];
    char                 today[DK_DATE_LEN + 1];
    char                 counter[NGX_HTTP_DUKCAPIL_COUNTER_LEN + 1];
    char                 services[NGX_HTTP_DUKCAPIL_SERVICES_LEN];
} ngx_http_dukcapil_counter_t;


static void ngx_http_dukcapil_check_in_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_checked_in(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_call_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_dukcapil_call_services(json_t *json,
    char *out);
static void ngx_http_dukcapil_called(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_step_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_step_done(void *data, PGresult *res,
    ngx_uint_t backend);


/*
 * POST /api/v1/ops/appointments/{code}/check-in  {}, only on its date.
 * Answers what the operator compares with the KTP: name, service, queue
 * number, the NIK masked.  Checking in again answers the same, and writes
 * nothing.  Its body is a JSON object ({} will do): a request a page of
 * another site can make a browser send (a form, a fetch without a
 * preflight) cannot carry one.
 */
ngx_int_t
ngx_http_dukcapil_ops_check_in_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_ops_write(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_check_in_body);
}


static void
ngx_http_dukcapil_check_in_body(ngx_http_request_t *r)
{
    json_t                       *json;
    ngx_str_t                     raw;
    ngx_http_dukcapil_job_t      *job;
    ngx_http_dukcapil_counter_t  *c;
    char                          code[DK_CODE_LEN + 1];

    json = ngx_http_dukcapil_ops_step_body(r, 'A', &raw, code);
    if (json == NULL) {
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1,
                                       sizeof(ngx_http_dukcapil_counter_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    c = job->data;
    ngx_memcpy(c->code, code, sizeof(code));
    dk_date_format(ngx_http_dukcapil_today(), c->today);

    job->values[0] = c->code;
    job->values[1] = c->today;
    job->values[2] = ngx_http_dukcapil_actor(job);

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_CHECK_IN,
                                3, ngx_http_dukcapil_checked_in);
}


static void
ngx_http_dukcapil_checked_in(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t                       *json;
    const char                   *status, *date;
    ngx_http_dukcapil_counter_t  *c;

    job->pg = NULL;
    c = job->data;

    if (ngx_http_dukcapil_job_row(job, res) != NGX_OK) {
        return;
    }

    status = PQgetvalue(res, 0, 0);
    date = PQgetvalue(res, 0, 2);

    /* checked in now, or before on this same day: the same answer */
    if (PQgetvalue(res, 0, 1)[0] == 't'
        || (ngx_strcmp(status, "checked_in") == 0
            && ngx_strcmp(date, c->today) == 0))
    {
        json = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}",
                         "code", c->code, "status", "checked_in",
                         "queue_number", atoi(PQgetvalue(res, 0, 3)),
                         "service", PQgetvalue(res, 0, 4),
                         "service_name", PQgetvalue(res, 0, 5),
                         "office", PQgetvalue(res, 0, 6),
                         "date", date, "name", PQgetvalue(res, 0, 7));
        ngx_http_dukcapil_queue_nik(json, res, 0, 8);
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK, json);
        return;
    }

    if (ngx_strcmp(status, "booked") == 0) {
        json = ngx_http_dukcapil_error_json("not_today", NULL);
        json_object_set_new(json, "date", json_string(date));

    } else {
        json = ngx_http_dukcapil_error_json("appointment_closed", NULL);
        json_object_set_new(json, "status", json_string(status));
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_CONFLICT, json);
}


/*
 * POST /api/v1/ops/counters/{counter}/call  {office, services: [...]}: the
 * lowest queue number checked in today at the office for one of the
 * services, called to the counter, in one statement (dk_counter_call); two
 * counters calling at once never get the same citizen.  While the counter
 * has a citizen called, its call answers that citizen again and changes
 * nothing (sql/015_counter_fixes.sql).
 */
ngx_int_t
ngx_http_dukcapil_ops_counter_call_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_ops_write(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_call_body);
}


static void
ngx_http_dukcapil_call_body(ngx_http_request_t *r)
{
    json_t                         *json;
    u_char                         *p, *end, *start;
    ngx_int_t                       rc;
    ngx_str_t                       raw, v;
    const char                     *field;
    ngx_http_dukcapil_job_t        *job;
    ngx_http_dukcapil_office_t     *office;
    ngx_http_dukcapil_counter_t    *c;
    ngx_http_dukcapil_main_conf_t  *dmcf;
    char                            services[NGX_HTTP_DUKCAPIL_SERVICES_LEN];

    json = ngx_http_dukcapil_body_json(r, &raw, &rc);
    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* /api/v1/ops/counters/{counter}/call */
    end = r->uri.data + r->uri.len - (sizeof("/call") - 1);
    for (start = end; start > r->uri.data && start[-1] != '/'; start--) {
        /* void */
    }

    field = "counter";
    if (end - start < 1 || end - start > NGX_HTTP_DUKCAPIL_COUNTER_LEN) {
        goto invalid;
    }

    for (p = start; p < end; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')
              || (*p >= 'a' && *p <= 'z') || *p == '-'))
        {
            goto invalid;
        }
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    field = "office";
    if (ngx_http_dukcapil_json_string(json, "office", &v) != NGX_OK
        || (office = ngx_http_dukcapil_office(dmcf, &v)) == NULL)
    {
        goto invalid;
    }

    field = "services";
    if (ngx_http_dukcapil_call_services(json, services) != NGX_OK) {
        goto invalid;
    }

    job = ngx_http_dukcapil_job_create(r, 1,
                                       sizeof(ngx_http_dukcapil_counter_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    c = job->data;
    ngx_memcpy(c->counter, start, end - start);
    ngx_memcpy(c->services, services, sizeof(services));
    dk_date_format(ngx_http_dukcapil_today(), c->today);

    job->values[0] = (char *) office->code.data;
    job->values[1] = c->today;
    job->values[2] = c->services;
    job->values[3] = c->counter;
    job->values[4] = ngx_http_dukcapil_actor(job);
    job->values[5] = NULL;          /* its deadline, written when sent */

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_COUNTER_CALL, 6,
                                ngx_http_dukcapil_called);
    return;

invalid:

    ngx_http_finalize_request(r, ngx_http_dukcapil_send_invalid(r, field));
}


/* services: a non-empty array of known codes, as "{ktp,kk}" for SQL */

static ngx_int_t
ngx_http_dukcapil_call_services(json_t *json, char *out)
{
    char        *p;
    size_t       i;
    json_t      *a, *e;
    ngx_int_t    s;
    ngx_str_t    v;
    ngx_uint_t   seen;

    a = json_object_get(json, "services");
    if (!json_is_array(a) || json_array_size(a) == 0
        || json_array_size(a) > NGX_HTTP_DUKCAPIL_SERVICES)
    {
        return NGX_ERROR;
    }

    seen = 0;
    p = out;
    *p++ = '{';

    json_array_foreach(a, i, e) {
        if (!json_is_string(e)) {
            return NGX_ERROR;
        }

        v.data = (u_char *) json_string_value(e);
        v.len = json_string_length(e);

        s = ngx_http_dukcapil_service_index(&v);
        if (s == NGX_ERROR || (seen & (1 << s))) {
            return NGX_ERROR;
        }

        seen |= 1 << s;

        if (p > out + 1) {
            *p++ = ',';
        }

        p = (char *) ngx_cpymem(p, ngx_http_dukcapil_service_codes[s].data,
                                ngx_http_dukcapil_service_codes[s].len);
    }

    *p++ = '}';
    *p = '\0';

    return NGX_OK;
}


static void
ngx_http_dukcapil_called(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t  *json;

    job->pg = NULL;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (res) {
            ngx_log_error(NGX_LOG_ERR, job->log, 0,
                          "dukcapil: a counter's call refused by postgres: %s",
                          ngx_http_dukcapil_pg_error(res));
        }

        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    if (PQntuples(res) == 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_NOT_FOUND, "queue_empty",
                                    NULL);
        return;
    }

    json = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:s}",
                     "code", PQgetvalue(res, 0, 0),
                     "queue_number", atoi(PQgetvalue(res, 0, 1)),
                     "service", PQgetvalue(res, 0, 2),
                     "service_name", PQgetvalue(res, 0, 3),
                     "name", PQgetvalue(res, 0, 4),
                     "counter", PQgetvalue(res, 0, 6),
                     "calls", atoi(PQgetvalue(res, 0, 7)),
                     "status", "called");
    ngx_http_dukcapil_queue_nik(json, res, 0, 5);

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK, json);
}


/*
 * POST /api/v1/ops/appointments/{code}/recall, /served, /absent  {}: the
 * steps of a citizen called, by the last segment of the URI.
 */
ngx_int_t
ngx_http_dukcapil_ops_counter_step_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_ops_write(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_step_body);
}


static void
ngx_http_dukcapil_step_body(ngx_http_request_t *r)
{
    json_t                       *json;
    ngx_str_t                     raw;
    ngx_uint_t                    i;
    const char                   *step;
    ngx_http_dukcapil_job_t      *job;
    ngx_http_dukcapil_counter_t  *c;
    char                          code[DK_CODE_LEN + 1];

    static const char  *steps[] = { "recall", "served", "absent", NULL };

    json = ngx_http_dukcapil_ops_step_body(r, 'A', &raw, code);
    if (json == NULL) {
        return;
    }

    step = NULL;

    for (i = 0; steps[i]; i++) {
        if (r->uri.len > ngx_strlen(steps[i]) + 1
            && ngx_strncmp(r->uri.data + r->uri.len - ngx_strlen(steps[i]),
                           steps[i], ngx_strlen(steps[i]))
               == 0
            && r->uri.data[r->uri.len - ngx_strlen(steps[i]) - 1] == '/')
        {
            step = steps[i];
            break;
        }
    }

    if (step == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_dukcapil_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         NULL));
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1,
                                       sizeof(ngx_http_dukcapil_counter_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    c = job->data;
    ngx_memcpy(c->code, code, sizeof(code));

    job->values[0] = c->code;
    job->values[1] = step;
    job->values[2] = ngx_http_dukcapil_actor(job);
    job->values[3] = NULL;          /* its deadline, written when sent */

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_COUNTER_STEP, 4,
                                ngx_http_dukcapil_step_done);
}


static void
ngx_http_dukcapil_step_done(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t                       *json;
    const char                   *outcome, *status;
    ngx_http_dukcapil_counter_t  *c;

    job->pg = NULL;
    c = job->data;

    outcome = ngx_http_dukcapil_ops_outcome(job, res);
    if (outcome == NULL) {
        return;
    }

    /* it ran after its deadline: the operator heard 503, nothing done */
    if (ngx_strcmp(outcome, "late") == 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    status = PQgetvalue(res, 0, 1);

    if (ngx_strcmp(outcome, "conflict") == 0) {
        json = ngx_http_dukcapil_error_json("invalid_transition", NULL);
        json_object_set_new(json, "status", json_string(status));
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_CONFLICT, json);
        return;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s, s:s, s:i, s:s}",
                                          "code", c->code, "status", status,
                                          "calls", atoi(PQgetvalue(res, 0, 2)),
                                          "counter", PQgetvalue(res, 0, 3)));
}
