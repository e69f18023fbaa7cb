
/*
 * The body of a booking, read and checked in the contract's order.
 */


#ifndef _NGX_HTTP_DUKCAPIL_BOOK_BODY_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_BOOK_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_admission.h"
#include "ngx_http_dukcapil_body.h"


ngx_int_t ngx_http_dukcapil_book_body_parse(ngx_http_request_t *r,
    ngx_http_dukcapil_body_t *body, ngx_http_dukcapil_appointment_t *a,
    ngx_str_t *name, char *phone, const char **field);


#endif /* _NGX_HTTP_DUKCAPIL_BOOK_BODY_H_INCLUDED_ */
