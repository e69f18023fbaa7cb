
/*
 * The body of a booking, POST /api/v1/appointments, read and checked: the
 * citizen's fields, the office and date of the configuration, and the
 * phone's token.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_book_body.h"
#include "ngx_http_dukcapil_token.h"
#include "ngx_http_dukcapil_util.h"
#include "name.h"
#include "nik.h"
#include "phone.h"


/*
 * Validates in the order of the contract; *field names the first at fault.
 * The name points into the body, the phone is written in E.164.
 */
ngx_int_t
ngx_http_dukcapil_book_body_parse(ngx_http_request_t *r,
    ngx_http_dukcapil_body_t *body, ngx_http_dukcapil_appointment_t *a,
    ngx_str_t *name, char *phone, const char **field)
{
    const char                       *p;
    ngx_int_t                         s, rc;
    ngx_str_t                         v;
    ngx_http_dukcapil_office_t       *office;
    ngx_http_dukcapil_main_conf_t    *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    *field = "nik";
    if (ngx_http_dukcapil_body_string(body, "nik", &v) != NGX_OK
        || dk_nik_valid((char *) v.data, v.len) != 0)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(a->nik, v.data, 16);

    *field = "name";
    if (ngx_http_dukcapil_body_string(body, "name", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    p = (const char *) v.data;
    v.len = dk_trim(&p, v.len);

    if (dk_name_valid(p, v.len) != 0) {
        return NGX_ERROR;
    }

    name->data = (u_char *) p;
    name->len = v.len;

    *field = "phone";
    if (ngx_http_dukcapil_body_string(body, "phone", &v) != NGX_OK
        || dk_phone_normalize((char *) v.data, v.len, phone) < 0)
    {
        return NGX_ERROR;
    }

    *field = "service";
    if (ngx_http_dukcapil_body_string(body, "service", &v) != NGX_OK
        || (s = ngx_http_dukcapil_service_index(&v)) == NGX_ERROR
        || !dmcf->services[s].enabled)
    {
        return NGX_ERROR;
    }

    a->service = s;

    *field = "office";
    if (ngx_http_dukcapil_body_string(body, "office", &v) != NGX_OK
        || (office = ngx_http_dukcapil_office(dmcf, &v)) == NULL)
    {
        return NGX_ERROR;
    }

    a->office = office->code;

    *field = "date";
    if (ngx_http_dukcapil_body_string(body, "date", &v) != NGX_OK
        || dk_date_parse((char *) v.data, v.len, &a->day) != 0
        || !ngx_http_dukcapil_day_in_window(dmcf, a->day))
    {
        return NGX_ERROR;
    }

    dk_date_format(a->day, a->date);

    *field = "phone_token";
    rc = ngx_http_dukcapil_body_string(body, "phone_token", &v);

    return ngx_http_dukcapil_token_check(r, rc == NGX_OK ? &v : NULL,
                                         phone);
}
