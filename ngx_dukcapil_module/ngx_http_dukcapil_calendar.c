
/*
 * The office's calendar, the operators' side.  PUT and DELETE
 * /api/v1/ops/closures {date, office?, reason} close a date for one office
 * or all (every service) and reopen it; PUT and DELETE /api/v1/ops/openings
 * {date, office?} open a weekday the office is normally closed and take the
 * opening back.  PostgreSQL first: it is the record of truth, cancels the
 * booked appointments of a date closed, and is what reconcile restores
 * Redis from.  Then every office concerned in Redis at once
 * (lua/calendar.lua), where book.lua and availability read the calendar.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_idempotency.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_ops.h"
#include "ngx_http_dukcapil_redis_script.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_util.h"
#include "holiday.h"
#include "keys.h"
#include "name.h"
#include "wib.h"


typedef struct {
    ngx_uint_t                    closures;   /* else openings */
    ngx_uint_t                    statement;
    int                           nparams;
    int32_t                       day;
    char                          date[DK_DATE_LEN + 1];
    ngx_str_t                     office;     /* empty: every office */
    char                          expire[NGX_INT64_LEN + 1];

    ngx_str_t                     reason;     /* a closure's */

    /* what the step left: appointments cancelled, offices closed, opened */
    ngx_int_t                     cancelled;
    ngx_uint_t                    closed;
    ngx_uint_t                    opened;
} ngx_http_dukcapil_calendar_t;


static ngx_int_t ngx_http_dukcapil_calendar_write(ngx_http_request_t *r,
    ngx_uint_t closures);
static void ngx_http_dukcapil_closures_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_openings_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_calendar_body(ngx_http_request_t *r,
    ngx_uint_t closures);
static const char *ngx_http_dukcapil_calendar_parse(ngx_http_request_t *r,
    json_t *json, ngx_http_dukcapil_calendar_t *cal);
static void ngx_http_dukcapil_calendar_send(ngx_http_dukcapil_job_t *job);
static void ngx_http_dukcapil_calendar_stored(void *data, PGresult *res,
    ngx_uint_t backend);
static ngx_int_t ngx_http_dukcapil_calendar_apply(
    ngx_http_dukcapil_job_t *job, PGresult *res);
static ngx_uint_t ngx_http_dukcapil_calendar_codes(char *s,
    const char **argv, size_t *argvlen);
static void ngx_http_dukcapil_calendar_applied(void *data, ngx_int_t rc);


/* PUT and DELETE /api/v1/ops/closures  {date, office?, reason} */

ngx_int_t
ngx_http_dukcapil_ops_closures_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_calendar_write(r, 1);
}


/* PUT and DELETE /api/v1/ops/openings  {date, office?} */

ngx_int_t
ngx_http_dukcapil_ops_openings_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_calendar_write(r, 0);
}


static ngx_int_t
ngx_http_dukcapil_calendar_write(ngx_http_request_t *r, ngx_uint_t closures)
{
    if (r->method != NGX_HTTP_PUT && r->method != NGX_HTTP_DELETE) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_dukcapil_ops_write(r, r->method,
                                       closures
                                       ? ngx_http_dukcapil_closures_body
                                       : ngx_http_dukcapil_openings_body);
}


static void
ngx_http_dukcapil_closures_body(ngx_http_request_t *r)
{
    ngx_http_dukcapil_calendar_body(r, 1);
}


static void
ngx_http_dukcapil_openings_body(ngx_http_request_t *r)
{
    ngx_http_dukcapil_calendar_body(r, 0);
}


static void
ngx_http_dukcapil_calendar_body(ngx_http_request_t *r, ngx_uint_t closures)
{
    u_char                         *p;
    json_t                         *json;
    ngx_int_t                       rc;
    ngx_str_t                       raw, hashed;
    const char                     *field;
    ngx_http_dukcapil_job_t        *job;
    ngx_http_dukcapil_calendar_t    parsed, *cal;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    json = ngx_http_dukcapil_body_json(r, &raw, &rc);
    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_memzero(&parsed, sizeof(ngx_http_dukcapil_calendar_t));
    parsed.closures = closures;

    field = ngx_http_dukcapil_calendar_parse(r, json, &parsed);
    if (field) {
        ngx_http_finalize_request(r,
                                  ngx_http_dukcapil_send_invalid(r, field));
        return;
    }

    if (!closures && r->method == NGX_HTTP_PUT
        && !ngx_http_dukcapil_weekday_closed(dmcf, parsed.day))
    {
        ngx_http_finalize_request(r,
            ngx_http_dukcapil_send_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                         "not_closed_weekday", "date"));
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1,
                                       sizeof(ngx_http_dukcapil_calendar_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cal = job->data;
    *cal = parsed;

    /* the method is part of what an Idempotency-Key's body stands for */
    hashed.len = sizeof("DELETE ") - 1 + raw.len;
    hashed.data = ngx_pnalloc(job->pool, hashed.len);

    /* the office's code is the configuration's; the reason is the body's */
    if (cal->reason.len) {
        cal->reason.data = ngx_http_dukcapil_job_strdup(job, cal->reason.data,
                                                        cal->reason.len);
    }

    if (hashed.data == NULL || (cal->reason.len && cal->reason.data == NULL)) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    p = ngx_cpymem(hashed.data, r->method_name.data, r->method_name.len);
    *p++ = ' ';
    p = ngx_cpymem(p, raw.data, raw.len);
    hashed.len = p - hashed.data;

    ngx_snprintf((u_char *) cal->expire, sizeof(cal->expire), "%L%Z",
                 (int64_t) dk_key_day_expiry(cal->day));

    job->values[0] = cal->date;
    job->values[1] = cal->office.len ? (char *) cal->office.data : NULL;

    if (closures && r->method == NGX_HTTP_PUT) {
        cal->statement = NGX_HTTP_DUKCAPIL_SQL_CALENDAR_CLOSE;
        cal->nparams = 4;
        job->values[2] = (char *) cal->reason.data;
        job->values[3] = ngx_http_dukcapil_actor(job);

    } else if (closures) {
        cal->statement = NGX_HTTP_DUKCAPIL_SQL_CALENDAR_REOPEN;
        cal->nparams = 2;

    } else if (r->method == NGX_HTTP_PUT) {
        cal->statement = NGX_HTTP_DUKCAPIL_SQL_CALENDAR_OPEN;
        cal->nparams = 3;
        job->values[2] = ngx_http_dukcapil_actor(job);

    } else {
        cal->statement = NGX_HTTP_DUKCAPIL_SQL_CALENDAR_UNOPEN;
        cal->nparams = 3;
        job->values[2] = ngx_http_dukcapil_weekday_closed(job->dmcf, cal->day)
                         ? "t" : "f";
    }

    ngx_http_dukcapil_idempotency_claim(job, &hashed,
                                        ngx_http_dukcapil_calendar_send);
}


/*
 * Validates in the order of the contract: the date (today or later), the
 * office (absent or null: every office), a closure's reason.  Returns the
 * first field at fault, or NULL.
 */
static const char *
ngx_http_dukcapil_calendar_parse(ngx_http_request_t *r, json_t *json,
    ngx_http_dukcapil_calendar_t *cal)
{
    json_t                         *office;
    ngx_str_t                       v;
    const char                     *p;
    ngx_http_dukcapil_office_t     *o;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    /* today too: a closure of today stops today's bookings and cancels */
    if (ngx_http_dukcapil_json_string(json, "date", &v) != NGX_OK
        || dk_date_parse((char *) v.data, v.len, &cal->day) != 0
        || cal->day < ngx_http_dukcapil_today())
    {
        return "date";
    }

    dk_date_format(cal->day, cal->date);

    office = json_object_get(json, "office");

    if (office && !json_is_null(office)) {
        if (ngx_http_dukcapil_json_string(json, "office", &v) != NGX_OK
            || (o = ngx_http_dukcapil_office(dmcf, &v)) == NULL)
        {
            return "office";
        }

        cal->office = o->code;
    }

    if (!cal->closures || r->method != NGX_HTTP_PUT) {
        return NULL;
    }

    if (ngx_http_dukcapil_json_string(json, "reason", &v) != NGX_OK) {
        return "reason";
    }

    p = (const char *) v.data;
    v.len = dk_trim(&p, v.len);

    if (dk_text_valid(p, v.len, DK_REASON_MAX) != 0) {
        return "reason";
    }

    cal->reason.data = (u_char *) p;
    cal->reason.len = v.len;

    return NULL;
}


/* PostgreSQL first: the record of truth, which reconcile restores */

static void
ngx_http_dukcapil_calendar_send(ngx_http_dukcapil_job_t *job)
{
    ngx_http_dukcapil_calendar_t  *cal;

    cal = job->data;

    ngx_http_dukcapil_job_query(job, cal->statement, cal->nparams,
                                ngx_http_dukcapil_calendar_stored);
}


static void
ngx_http_dukcapil_calendar_stored(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t      *json;
    const char  *outcome;

    job->pg = NULL;

    outcome = ngx_http_dukcapil_ops_outcome(job, res);
    if (outcome == NULL) {
        return;
    }

    if (ngx_strcmp(outcome, "conflict") == 0) {
        json = ngx_http_dukcapil_error_json("appointments_on_date", NULL);
        json_object_set_new(json, "appointments",
                            json_integer(atoi(PQgetvalue(res, 0, 5))));
        ngx_http_dukcapil_job_reply(job, NGX_HTTP_CONFLICT, json);
        return;
    }

    if (ngx_http_dukcapil_calendar_apply(job, res) != NGX_OK) {
        /* stored, not yet applied: reconcile applies it, a retry too */
        ngx_http_dukcapil_calendar_applied(job, NGX_ERROR);
    }
}


/*
 * One call of lua/calendar.lua for every office of the answer: their days'
 * keys, then the keys' expiry, then per office its reason ("" when open),
 * "1" when opened, how many codes follow, and the codes of the appointments
 * cancelled there, whose admissions go back.
 */
static ngx_int_t
ngx_http_dukcapil_calendar_apply(ngx_http_dukcapil_job_t *job, PGresult *res)
{
    int                            len;
    u_char                        *count;
    size_t                        *argvlen;
    ngx_int_t                      n, i, d, k;
    ngx_uint_t                     codes;
    const char                   **argv;
    ngx_http_dukcapil_calendar_t  *cal;
    ngx_http_dukcapil_redis_op_t  *op;

    cal = job->data;
    n = PQntuples(res);

    for (i = 0, codes = 0; i < n; i++) {
        codes += ngx_http_dukcapil_calendar_codes(PQgetvalue(res, i, 4),
                                                  NULL, NULL);
    }

    k = 4 * n + 1 + 3 * n + codes;

    argv = ngx_palloc(job->pool, k * sizeof(char *));
    argvlen = ngx_palloc(job->pool, k * sizeof(size_t));
    count = ngx_pnalloc(job->pool, 4 * n * DK_KEY_MAX + n * NGX_INT_T_LEN);

    if (argv == NULL || argvlen == NULL || count == NULL) {
        return NGX_ERROR;
    }

    argv[4 * n] = cal->expire;
    argvlen[4 * n] = ngx_strlen(cal->expire);
    k = 4 * n + 1;

    for (i = 0; i < n; i++) {
        for (d = 0; d < DK_DAY_KEYS; d++) {
            len = dk_key_day((char *) count, DK_KEY_MAX,
                             PQgetvalue(res, i, 1), PQgetlength(res, i, 1),
                             cal->date, (dk_day_key) d);
            if (len < 0) {
                return NGX_ERROR;
            }

            argv[4 * i + d] = (char *) count;
            argvlen[4 * i + d] = len;
            count += DK_KEY_MAX;
        }

        cal->cancelled += ngx_atoi((u_char *) PQgetvalue(res, i, 5),
                                   PQgetlength(res, i, 5));
        cal->closed += !PQgetisnull(res, i, 2);
        cal->opened += (PQgetvalue(res, i, 3)[0] == 't');

        argv[k] = PQgetvalue(res, i, 2);
        argvlen[k++] = PQgetlength(res, i, 2);
        argv[k] = (PQgetvalue(res, i, 3)[0] == 't') ? "1" : "";
        argvlen[k] = ngx_strlen(argv[k]);
        k++;

        codes = ngx_http_dukcapil_calendar_codes(PQgetvalue(res, i, 4),
                                                 argv + k + 1,
                                                 argvlen + k + 1);
        argv[k] = (char *) count;
        argvlen[k++] = ngx_http_dukcapil_decimal(count, codes) - count;
        count += NGX_INT_T_LEN;
        k += codes;
    }

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_redis_log_error,
                                    ngx_http_dukcapil_calendar_applied, job);
    if (op == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_dukcapil_script(op, NGX_HTTP_DUKCAPIL_SCRIPT_CALENDAR,
                                    4 * n, k, argv, argvlen);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        return NGX_ERROR;
    }

    job->redis = op;

    return NGX_OK;
}


/* the codes of a space separated list: counted, and laid in argv if given */

static ngx_uint_t
ngx_http_dukcapil_calendar_codes(char *s, const char **argv, size_t *argvlen)
{
    char        *e;
    ngx_uint_t   n;

    for (n = 0; *s; s = e) {
        while (*s == ' ') {
            s++;
        }

        for (e = s; *e && *e != ' '; e++) { /* void */ }

        if (e > s) {
            if (argv) {
                argv[n] = s;
                argvlen[n] = e - s;
            }

            n++;
        }
    }

    return n;
}


static void
ngx_http_dukcapil_calendar_applied(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t                        *json;
    ngx_http_dukcapil_calendar_t  *cal;

    job->redis = NULL;
    cal = job->data;

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: calendar of %s stored, not applied in "
                      "redis: left to reconcile", cal->date);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    json = json_pack("{s:s}", "date", cal->date);
    if (json == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    if (cal->office.len) {
        json_object_set_new(json, "office",
                            json_stringn((char *) cal->office.data,
                                         cal->office.len));
    }

    if (cal->reason.len) {
        json_object_set_new(json, "reason",
                            json_stringn((char *) cal->reason.data,
                                         cal->reason.len));
        json_object_set_new(json, "cancelled",
                            json_integer(cal->cancelled));
    }

    /* closed or opened as the step leaves the office, or any office */
    json_object_set_new(json, cal->closures ? "closed" : "opened",
                        json_boolean(cal->closures ? cal->closed
                                                   : cal->opened));

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK, json);
}
