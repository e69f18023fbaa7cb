
/*
 * The back office's reads (issue 15): the operators' worklist of
 * applications, one application with its history, and the delivery budget
 * of the current period with its batches.  PostgreSQL only; the NIK is
 * answered masked (domain/mask.c), never whole.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_ops.h"
#include "ngx_http_dukcapil_queue.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_util.h"
#include "code.h"
#include "wib.h"


#define NGX_HTTP_DUKCAPIL_PAGE_DEFAULT  50
#define NGX_HTTP_DUKCAPIL_PAGE_MAX      100

/*
 * a cursor: the last id of a page, its decimal digits in base64url; an id
 * is a bigint, at most its maximum
 */
#define NGX_HTTP_DUKCAPIL_ID_MAX        "9223372036854775807"
#define NGX_HTTP_DUKCAPIL_ID_LEN        (sizeof(NGX_HTTP_DUKCAPIL_ID_MAX) - 1)
#define NGX_HTTP_DUKCAPIL_CURSOR_LEN                                          \
    ngx_base64_encoded_length(NGX_HTTP_DUKCAPIL_ID_LEN)

/* an office's code, as the office table allows it */
#define NGX_HTTP_DUKCAPIL_OFFICE_LEN    32


typedef struct {
    ngx_int_t            limit;
    char                 after[NGX_HTTP_DUKCAPIL_ID_LEN + 1];
    char                 limit_arg[NGX_INT_T_LEN + 1];
    char                 office[NGX_HTTP_DUKCAPIL_OFFICE_LEN + 1];
    char                 code[DK_CODE_LEN + 1];
    char                 today[DK_DATE_LEN + 1];
} ngx_http_dukcapil_backoffice_t;


static ngx_int_t ngx_http_dukcapil_arg_cursor(ngx_http_request_t *r,
    char *after);
static ngx_int_t ngx_http_dukcapil_arg_office_code(ngx_http_request_t *r,
    char *office);
static void ngx_http_dukcapil_worklist_done(void *data, PGresult *res,
    ngx_uint_t backend);
static json_t *ngx_http_dukcapil_worklist_row(PGresult *res, int row);
static void ngx_http_dukcapil_ops_application_done(void *data, PGresult *res,
    ngx_uint_t backend);


/*
 * GET /api/v1/ops/applications?status=S&office=O&cursor=C&limit=N: oldest
 * first by id, keyset-paged; next_cursor is null on the last page.
 */
ngx_int_t
ngx_http_dukcapil_ops_applications_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc, limit;
    ngx_str_t                        v;
    const char                      *status;
    ngx_http_dukcapil_job_t         *job;
    ngx_http_dukcapil_backoffice_t  *b;
    char                             after[NGX_HTTP_DUKCAPIL_ID_LEN + 1];
    char                             office[NGX_HTTP_DUKCAPIL_OFFICE_LEN + 1];

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    status = NULL;

    if (ngx_http_arg(r, (u_char *) "status", 6, &v) == NGX_OK) {
        status = ngx_http_dukcapil_ops_status(&v);
        if (status == NULL) {
            return ngx_http_dukcapil_send_invalid(r, "status");
        }
    }

    if (ngx_http_dukcapil_arg_office_code(r, office) != NGX_OK) {
        return ngx_http_dukcapil_send_invalid(r, "office");
    }

    if (ngx_http_dukcapil_arg_cursor(r, after) != NGX_OK) {
        return ngx_http_dukcapil_send_invalid(r, "cursor");
    }

    limit = NGX_HTTP_DUKCAPIL_PAGE_DEFAULT;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &v) == NGX_OK) {
        limit = (v.len > 0 && v.len <= 3) ? ngx_atoi(v.data, v.len)
                                          : NGX_ERROR;
        if (limit < 1 || limit > NGX_HTTP_DUKCAPIL_PAGE_MAX) {
            return ngx_http_dukcapil_send_invalid(r, "limit");
        }
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_backoffice_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = job->data;
    b->limit = limit;
    ngx_memcpy(b->after, after, sizeof(after));
    ngx_memcpy(b->office, office, sizeof(office));
    ngx_snprintf((u_char *) b->limit_arg, sizeof(b->limit_arg), "%i%Z",
                 limit);

    job->values[0] = status;
    job->values[1] = b->office[0] ? b->office : NULL;
    job->values[2] = b->after;
    job->values[3] = b->limit_arg;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_OPS_APPLICATIONS, 4,
                                ngx_http_dukcapil_worklist_done);

    return NGX_DONE;
}


/* office: absent (every office), or a code the office table could hold */

static ngx_int_t
ngx_http_dukcapil_arg_office_code(ngx_http_request_t *r, char *office)
{
    size_t     i;
    ngx_str_t  v;

    office[0] = '\0';

    if (ngx_http_arg(r, (u_char *) "office", 6, &v) != NGX_OK) {
        return NGX_OK;
    }

    if (v.len == 0 || v.len > NGX_HTTP_DUKCAPIL_OFFICE_LEN
        || v.data[0] < 'a' || v.data[0] > 'z')
    {
        return NGX_ERROR;
    }

    for (i = 0; i < v.len; i++) {
        if (!((v.data[i] >= 'a' && v.data[i] <= 'z')
              || (v.data[i] >= '0' && v.data[i] <= '9') || v.data[i] == '_'))
        {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(office, v.data, v.len);
    office[v.len] = '\0';

    return NGX_OK;
}


/* cursor: absent (the first page: after id 0), or one next_cursor gave */

static ngx_int_t
ngx_http_dukcapil_arg_cursor(ngx_http_request_t *r, char *after)
{
    size_t     i;
    ngx_str_t  v, id;
    u_char     buf[NGX_HTTP_DUKCAPIL_CURSOR_LEN];

    after[0] = '0';
    after[1] = '\0';

    if (ngx_http_arg(r, (u_char *) "cursor", 6, &v) != NGX_OK) {
        return NGX_OK;
    }

    if (v.len == 0 || v.len > NGX_HTTP_DUKCAPIL_CURSOR_LEN) {
        return NGX_ERROR;
    }

    id.data = buf;

    if (ngx_decode_base64url(&id, &v) != NGX_OK || id.len == 0
        || id.len > NGX_HTTP_DUKCAPIL_ID_LEN)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < id.len; i++) {
        if (id.data[i] < '0' || id.data[i] > '9') {
            return NGX_ERROR;
        }
    }

    /* beyond a bigint: no id is there, and the cast would fail (503) */
    if (id.len == NGX_HTTP_DUKCAPIL_ID_LEN
        && ngx_memcmp(id.data, NGX_HTTP_DUKCAPIL_ID_MAX, id.len) > 0)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(after, id.data, id.len);
    after[id.len] = '\0';

    return NGX_OK;
}


static void
ngx_http_dukcapil_worklist_done(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    int                              row, rows;
    json_t                          *list, *next;
    ngx_str_t                        id, cursor;
    ngx_http_dukcapil_backoffice_t  *b;
    u_char                           buf[NGX_HTTP_DUKCAPIL_CURSOR_LEN + 1];

    job->pg = NULL;
    b = job->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    rows = PQntuples(res);
    list = json_array();

    for (row = 0; row < rows && row < b->limit; row++) {
        json_array_append_new(list, ngx_http_dukcapil_worklist_row(res, row));
    }

    next = json_null();

    /* one row more than the page: another page follows this one's last */
    if (rows > b->limit) {
        id.data = (u_char *) PQgetvalue(res, b->limit - 1, 0);
        id.len = PQgetlength(res, b->limit - 1, 0);

        if (id.len <= NGX_HTTP_DUKCAPIL_ID_LEN) {
            cursor.data = buf;
            ngx_encode_base64url(&cursor, &id);
            next = json_stringn((char *) cursor.data, cursor.len);
        }
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
                                json_pack("{s:o, s:o}", "applications", list,
                                          "next_cursor", next));
}


static json_t *
ngx_http_dukcapil_worklist_row(PGresult *res, int row)
{
    json_t  *json;

    json = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "code", PQgetvalue(res, row, 1),
                     "service", PQgetvalue(res, row, 2),
                     "service_name", PQgetvalue(res, row, 3),
                     "status", PQgetvalue(res, row, 4),
                     "name", PQgetvalue(res, row, 5),
                     "delivery_method", PQgetvalue(res, row, 7),
                     "office", PQgetvalue(res, row, 8),
                     "submitted_at", PQgetvalue(res, row, 9),
                     "updated_at", PQgetvalue(res, row, 10));
    if (json == NULL) {
        return json_null();
    }

    ngx_http_dukcapil_queue_nik(json, res, row, 6);

    return json;
}


/* GET /api/v1/ops/applications/{code}: with its history, NIK masked */

ngx_int_t
ngx_http_dukcapil_ops_application_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_dukcapil_job_t         *job;
    ngx_http_dukcapil_backoffice_t  *b;
    char                             code[DK_CODE_LEN + 1];

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_dukcapil_uri_code(r, 0, 'P', code) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found", NULL);
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_backoffice_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = job->data;
    ngx_memcpy(b->code, code, sizeof(code));

    job->values[0] = b->code;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_OPS_APPLICATION, 1,
                                ngx_http_dukcapil_ops_application_done);

    return NGX_DONE;
}


static void
ngx_http_dukcapil_ops_application_done(void *data, PGresult *res,
    ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t  *json;

    job->pg = NULL;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    if (PQntuples(res) == 0) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_NOT_FOUND, "not_found",
                                    NULL);
        return;
    }

    json = json_loadb(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), 0, NULL);
    if (!json_is_object(json)) {
        if (json) {
            json_decref(json);
        }

        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    ngx_http_dukcapil_queue_nik(json, res, 0, 1);

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK, json);
}


/*
 * GET /api/v1/ops/delivery: the budget of the period holding today (WIB),
 * used and left, and the period's batches with their manifests.
 */
ngx_int_t
ngx_http_dukcapil_ops_delivery_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_dukcapil_job_t         *job;
    ngx_http_dukcapil_backoffice_t  *b;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    job = ngx_http_dukcapil_job_create(r, 0,
                                       sizeof(ngx_http_dukcapil_backoffice_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = job->data;
    dk_date_format(ngx_http_dukcapil_today(), b->today);

    job->values[0] = b->today;

    r->main->count++;

    ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_OPS_DELIVERY, 1,
                                ngx_http_dukcapil_job_json_done);

    return NGX_DONE;
}
