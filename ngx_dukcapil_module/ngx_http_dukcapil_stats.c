
/*
 * GET /api/v1/ops/stats?office=O&from=D&to=D (issue 15): the offices' days
 * (appointments by outcome, the quota and how full it was, the wait from
 * check-in to the first call) and the deliveries' days, computed by one
 * statement from the rows (ops_stats(), sql/014_ops_stats.sql).  As JSON,
 * or the days as CSV (Accept: text/csv or ?format=csv), the same figures.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_util.h"
#include "csv.h"
#include "wib.h"


/* the longest range asked at once, and the one answered when none is */
#define NGX_HTTP_DUKCAPIL_STATS_MAX_DAYS      92
#define NGX_HTTP_DUKCAPIL_STATS_DEFAULT_DAYS  30

/* a CSV row: ten numbers and a date beside an office's code */
#define NGX_HTTP_DUKCAPIL_STATS_ROW_LEN       256


typedef struct {
    ngx_uint_t           csv;
    ngx_str_t            office;
    char                 from[DK_DATE_LEN + 1];
    char                 to[DK_DATE_LEN + 1];
    char                 today[DK_DATE_LEN + 1];
    char                 weekdays[NGX_INT_T_LEN + 1];
} ngx_http_dukcapil_stats_t;


static ngx_int_t ngx_http_dukcapil_stats_wants_csv(ngx_http_request_t *r,
    ngx_uint_t *csv);
static ngx_int_t ngx_http_dukcapil_stats_arrays(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_office_t *office);
static void ngx_http_dukcapil_stats_done(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_stats_csv(ngx_http_dukcapil_job_t *job,
    const char *answer, size_t len);
static u_char *ngx_http_dukcapil_stats_cell(u_char *p, u_char *last,
    json_t *v, const char *format);


static const char  *ngx_http_dukcapil_stats_columns[] = {
    "date", "office", "booked", "checked_in", "served", "no_show",
    "cancelled", "quota", "quota_filled", "wait_median_seconds",
    "wait_p90_seconds", NULL
};

/* how the SQL rounds them: a ratio to 4 places, seconds to 1 */
static const char  *ngx_http_dukcapil_stats_formats[] = {
    NULL, NULL, "%.0f", "%.0f", "%.0f", "%.0f", "%.0f", "%.0f", "%.4f",
    "%.1f", "%.1f", NULL
};

static ngx_str_t  ngx_http_dukcapil_csv_type = ngx_string("text/csv");


ngx_int_t
ngx_http_dukcapil_ops_stats_handler(ngx_http_request_t *r)
{
    int32_t                         from, to, today;
    ngx_int_t                       rc, rf;
    ngx_str_t                       v;
    ngx_uint_t                      csv;
    ngx_http_dukcapil_job_t        *job;
    ngx_http_dukcapil_stats_t      *st;
    ngx_http_dukcapil_office_t     *office;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    office = NULL;

    if (ngx_http_arg(r, (u_char *) "office", 6, &v) == NGX_OK
        && (office = ngx_http_dukcapil_office(dmcf, &v)) == NULL)
    {
        return ngx_http_dukcapil_send_invalid(r, "office");
    }

    today = ngx_http_dukcapil_today();

    rf = ngx_http_dukcapil_arg_date(r, "from", 4, &from);
    if (rf == NGX_ERROR) {
        return ngx_http_dukcapil_send_invalid(r, "from");
    }

    rc = ngx_http_dukcapil_arg_date(r, "to", 2, &to);
    if (rc == NGX_ERROR) {
        return ngx_http_dukcapil_send_invalid(r, "to");
    }

    /* no end: today, or the longest range from its start if that is past */
    if (rc == NGX_DECLINED) {
        to = today;

        if (rf == NGX_OK && to - from >= NGX_HTTP_DUKCAPIL_STATS_MAX_DAYS) {
            to = from + NGX_HTTP_DUKCAPIL_STATS_MAX_DAYS - 1;
        }
    }

    if (rf == NGX_DECLINED) {
        from = to - (NGX_HTTP_DUKCAPIL_STATS_DEFAULT_DAYS - 1);
    }

    if (from > to) {
        return ngx_http_dukcapil_send_invalid(r, "from");
    }

    if (to - from >= NGX_HTTP_DUKCAPIL_STATS_MAX_DAYS) {
        return ngx_http_dukcapil_send_invalid(r, "to");
    }

    if (ngx_http_dukcapil_stats_wants_csv(r, &csv) != NGX_OK) {
        return ngx_http_dukcapil_send_invalid(r, "format");
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_stats_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st = job->data;
    st->csv = csv;
    dk_date_format(from, st->from);
    dk_date_format(to, st->to);
    dk_date_format(today, st->today);
    ngx_snprintf((u_char *) st->weekdays, sizeof(st->weekdays), "%ui%Z",
                 dmcf->closed_weekdays);

    if (office) {
        st->office = office->code;
    }

    if (ngx_http_dukcapil_stats_arrays(job, office) != NGX_OK) {
        ngx_http_dukcapil_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->values[0] = st->from;
    job->values[1] = st->to;
    job->values[5] = st->weekdays;
    job->values[6] = st->today;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_OPS_STATS, 7,
                                ngx_http_dukcapil_stats_done);

    return NGX_DONE;
}


/* ?format=csv|json, else the Accept header: text/csv asks for CSV */

static ngx_int_t
ngx_http_dukcapil_stats_wants_csv(ngx_http_request_t *r, ngx_uint_t *csv)
{
    ngx_str_t         v;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    *csv = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &v) == NGX_OK) {
        if (v.len == 3 && ngx_strncmp(v.data, "csv", 3) == 0) {
            *csv = 1;
            return NGX_OK;
        }

        if (v.len == 4 && ngx_strncmp(v.data, "json", 4) == 0) {
            return NGX_OK;
        }

        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Accept") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept",
                               sizeof("Accept") - 1)
               == 0
            && ngx_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "text/csv", sizeof("text/csv") - 2)
               != NULL)
        {
            *csv = 1;
        }
    }

    return NGX_OK;
}


/*
 * $3: the offices ("{mpp,sail}": the one asked, or every office nginx
 * takes bookings for); $4, $5: the services enabled and their default
 * quotas, as array literals.
 */
static ngx_int_t
ngx_http_dukcapil_stats_arrays(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_office_t *office)
{
    u_char                         *p, *q, *s;
    size_t                          len;
    ngx_uint_t                      i, n;
    ngx_http_dukcapil_office_t     *offices;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dmcf = job->dmcf;
    offices = office ? office : dmcf->offices->elts;
    n = office ? 1 : dmcf->offices->nelts;

    len = sizeof("{}");
    for (i = 0; i < n; i++) {
        len += offices[i].code.len + 1;
    }

    /* the services' codes (each under 16 bytes), then their quotas */
    len += NGX_HTTP_DUKCAPIL_SERVICES * 16 + sizeof("{}")
           + NGX_HTTP_DUKCAPIL_SERVICES * (NGX_INT_T_LEN + 1) + sizeof("{}");

    p = ngx_pnalloc(job->request->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    job->values[2] = (char *) p;

    *p++ = '{';
    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "%s%V", i ? "," : "", &offices[i].code);
    }
    p = ngx_cpymem(p, "}", 2);

    q = p;
    job->values[3] = (char *) q;
    *q++ = '{';

    s = q + NGX_HTTP_DUKCAPIL_SERVICES * 16 + sizeof("{}") - 1;
    job->values[4] = (char *) s;
    *s++ = '{';

    for (i = 0, n = 0; i < NGX_HTTP_DUKCAPIL_SERVICES; i++) {
        if (!dmcf->services[i].enabled) {
            continue;
        }

        q = ngx_sprintf(q, "%s%V", n ? "," : "", &dmcf->services[i].code);
        s = ngx_sprintf(s, "%s%i", n ? "," : "", dmcf->services[i].quota);
        n++;
    }

    *q++ = '}';
    *q = '\0';
    *s++ = '}';
    *s = '\0';

    return NGX_OK;
}


static void
ngx_http_dukcapil_stats_done(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    u_char                     *body;
    size_t                      len;
    ngx_http_dukcapil_stats_t  *st;

    job->pg = NULL;
    st = job->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1)
    {
        if (res && PQresultStatus(res) != PGRES_TUPLES_OK) {
            ngx_log_error(NGX_LOG_ERR, job->log, 0,
                          "dukcapil: the statistics refused by postgres: %s",
                          ngx_http_dukcapil_pg_error(res));
        }

        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    len = PQgetlength(res, 0, 0);

    if (st->csv) {
        ngx_http_dukcapil_stats_csv(job, PQgetvalue(res, 0, 0), len);
        return;
    }

    body = ngx_pnalloc(job->request->pool, len + 1);
    if (body == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    ngx_memcpy(body, PQgetvalue(res, 0, 0), len);
    body[len++] = '\n';

    ngx_http_dukcapil_job_reply_raw(job, NGX_HTTP_OK, body, len);
}


/*
 * The days as CSV: a header row, then one row per office and day, the
 * figures of the JSON as the SQL rounded them; an empty cell is a null (no
 * quota, no wait measured).
 */
static void
ngx_http_dukcapil_stats_csv(ngx_http_dukcapil_job_t *job, const char *answer,
    size_t len)
{
    u_char                     *body, *p, *last;
    json_t                     *json, *days, *day;
    size_t                      i, size;
    ngx_uint_t                  c;
    ngx_table_elt_t            *h;
    ngx_http_request_t         *r;
    ngx_http_dukcapil_stats_t  *st;

    r = job->request;
    st = job->data;

    json = json_loadb(answer, len, 0, NULL);
    days = json_object_get(json, "days");

    if (!json_is_array(days)) {
        if (json) {
            json_decref(json);
        }

        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    size = (json_array_size(days) + 1) * NGX_HTTP_DUKCAPIL_STATS_ROW_LEN;

    body = ngx_pnalloc(r->pool, size);
    if (body == NULL) {
        json_decref(json);
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    p = body;
    last = body + size;

    for (c = 0; ngx_http_dukcapil_stats_columns[c]; c++) {
        p = ngx_slprintf(p, last, "%s%s", c ? "," : "",
                         ngx_http_dukcapil_stats_columns[c]);
    }

    p = ngx_slprintf(p, last, "\r\n");

    json_array_foreach(days, i, day) {
        for (c = 0; ngx_http_dukcapil_stats_columns[c]; c++) {
            if (c) {
                p = ngx_slprintf(p, last, ",");
            }

            p = ngx_http_dukcapil_stats_cell(p, last,
                    json_object_get(day, ngx_http_dukcapil_stats_columns[c]),
                    ngx_http_dukcapil_stats_formats[c]);
        }

        p = ngx_slprintf(p, last, "\r\n");
    }

    json_decref(json);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Disposition");
    h->value.data = ngx_pnalloc(r->pool, 128);
    if (h->value.data == NULL) {
        h->hash = 0;
        ngx_http_dukcapil_job_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "unavailable", NULL);
        return;
    }

    h->value.len = ngx_snprintf(h->value.data, 128,
                                "attachment; filename=\"statistik-%V%s%s_%s"
                                ".csv\"",
                                &st->office, st->office.len ? "-" : "",
                                st->from, st->to)
                   - h->value.data;

    job->type = &ngx_http_dukcapil_csv_type;

    ngx_http_dukcapil_job_reply_raw(job, NGX_HTTP_OK, body, p - body);
}


/* a cell: a string (guarded against a spreadsheet's formula), a number */

static u_char *
ngx_http_dukcapil_stats_cell(u_char *p, u_char *last, json_t *v,
    const char *format)
{
    u_char      buf[64];
    const char *s;

    if (json_is_string(v)) {
        s = json_string_value(v);

        if (dk_csv_formula(s, json_string_length(v))) {
            p = ngx_slprintf(p, last, "'");
        }

        return ngx_slprintf(p, last, "%s", s);
    }

    if (json_is_number(v) && format) {
        /* nginx's %f writes no fixed places: libc's does, as the SQL */
        (void) snprintf((char *) buf, sizeof(buf), format,
                        json_number_value(v));
        return ngx_slprintf(p, last, "%s", buf);
    }

    return p;
}
