
/*
 * Reading the queue at the office: the day's list for the operators
 * (GET /api/v1/ops/appointments) and the waiting-room display, public,
 * with queue numbers, services and counters only (GET /api/v1/display).
 * Both from PostgreSQL, never from the citizens' rush (Redis).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_queue.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_util.h"
#include "nik.h"
#include "wib.h"


typedef struct {
    ngx_str_t            office;
    char                 date[DK_DATE_LEN + 1];
    char                 now[DK_RFC3339_MAX];
} ngx_http_dukcapil_queue_t;


static void ngx_http_dukcapil_list_done(void *data, PGresult *res,
    ngx_uint_t backend);
static json_t *ngx_http_dukcapil_list_row(PGresult *res, int row);


static const char  *ngx_http_dukcapil_appointment_statuses[] = {
    "booked", "checked_in", "called", "served", "no_show", "cancelled",
    "cancelled_by_office", NULL
};


/* "nik_masked": column col of row, as every NIK is masked (domain/nik.c) */

void
ngx_http_dukcapil_queue_nik(json_t *json, PGresult *res, int row, int col)
{
    char  masked[sizeof("1471********0001")];

    dk_mask_id(PQgetvalue(res, row, col), PQgetlength(res, row, col), masked,
               sizeof(masked));

    json_object_set_new(json, "nik_masked", json_string(masked));
}


/* GET /api/v1/ops/appointments?office=mpp&date=D&status=S */

ngx_int_t
ngx_http_dukcapil_ops_appointments_handler(ngx_http_request_t *r)
{
    int32_t                         day;
    ngx_int_t                       rc;
    ngx_str_t                       v;
    ngx_uint_t                      i;
    const char                     *status;
    ngx_http_dukcapil_job_t        *job;
    ngx_http_dukcapil_queue_t      *q;
    ngx_http_dukcapil_office_t     *office;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    if (ngx_http_arg(r, (u_char *) "office", 6, &v) != NGX_OK
        || (office = ngx_http_dukcapil_office(dmcf, &v)) == NULL)
    {
        return ngx_http_dukcapil_send_invalid(r, "office");
    }

    rc = ngx_http_dukcapil_arg_date(r, "date", 4, &day);
    if (rc == NGX_DECLINED) {
        day = ngx_http_dukcapil_today();

    } else if (rc != NGX_OK) {
        return ngx_http_dukcapil_send_invalid(r, "date");
    }

    status = NULL;

    if (ngx_http_arg(r, (u_char *) "status", 6, &v) == NGX_OK) {
        for (i = 0; ngx_http_dukcapil_appointment_statuses[i]; i++) {
            if (ngx_strlen(ngx_http_dukcapil_appointment_statuses[i]) == v.len
                && ngx_strncmp(ngx_http_dukcapil_appointment_statuses[i],
                               v.data, v.len)
                   == 0)
            {
                break;
            }
        }

        status = ngx_http_dukcapil_appointment_statuses[i];
        if (status == NULL) {
            return ngx_http_dukcapil_send_invalid(r, "status");
        }
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_queue_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = job->data;
    q->office = office->code;
    dk_date_format(day, q->date);

    job->values[0] = (char *) office->code.data;
    job->values[1] = q->date;
    job->values[2] = status;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_LIST,
                                3, ngx_http_dukcapil_list_done);

    return NGX_DONE;
}


static void
ngx_http_dukcapil_list_done(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    int                         row;
    json_t                     *list;
    ngx_http_dukcapil_queue_t  *q;

    job->pg = NULL;
    q = job->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    list = json_array();

    for (row = 0; row < PQntuples(res); row++) {
        json_array_append_new(list, ngx_http_dukcapil_list_row(res, row));
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:s%, s:s, s:o}",
                                          "office", q->office.data,
                                          q->office.len, "date", q->date,
                                          "appointments", list));
}


static json_t *
ngx_http_dukcapil_list_row(PGresult *res, int row)
{
    int          i;
    json_t      *json;
    const char  *v;

    static const char  *times[] = { "checked_in_at", "called_at",
                                    "finished_at" };

    json = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i}",
                     "code", PQgetvalue(res, row, 0),
                     "queue_number", atoi(PQgetvalue(res, row, 1)),
                     "service", PQgetvalue(res, row, 2),
                     "service_name", PQgetvalue(res, row, 3),
                     "name", PQgetvalue(res, row, 4),
                     "status", PQgetvalue(res, row, 6),
                     "calls", atoi(PQgetvalue(res, row, 7)));
    if (json == NULL) {
        return json_null();
    }

    ngx_http_dukcapil_queue_nik(json, res, row, 5);

    v = PQgetvalue(res, row, 8);
    json_object_set_new(json, "counter",
                        PQgetisnull(res, row, 8) ? json_null()
                                                 : json_string(v));

    for (i = 0; i < 3; i++) {
        v = PQgetvalue(res, row, 9 + i);
        json_object_set_new(json, times[i],
                            PQgetisnull(res, row, 9 + i) ? json_null()
                                                         : json_string(v));
    }

    return json;
}


/*
 * GET /api/v1/display?office=mpp: today's last 10 calls at the office, for
 * its waiting room's screen, polled every second: one statement on the
 * index of the day's calls (sql/013_counter.sql).
 */
ngx_int_t
ngx_http_dukcapil_display_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       v;
    ngx_http_dukcapil_job_t        *job;
    ngx_http_dukcapil_queue_t      *q;
    ngx_http_dukcapil_office_t     *office;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    if (ngx_http_arg(r, (u_char *) "office", 6, &v) != NGX_OK
        || (office = ngx_http_dukcapil_office(dmcf, &v)) == NULL)
    {
        return ngx_http_dukcapil_send_invalid(r, "office");
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_queue_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = job->data;
    q->office = office->code;
    dk_date_format(ngx_http_dukcapil_today(), q->date);
    (void) dk_rfc3339_wib((int64_t) ngx_http_dukcapil_now_ms() * 1000, q->now);

    job->values[0] = (char *) office->code.data;
    job->values[1] = q->date;
    job->values[2] = q->now;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_DISPLAY, 3,
                                ngx_http_dukcapil_job_json_done);

    return NGX_DONE;
}
