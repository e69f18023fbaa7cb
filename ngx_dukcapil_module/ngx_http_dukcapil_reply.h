
/*
 * JSON answers and the error contract of API.md.
 */


#ifndef _NGX_HTTP_DUKCAPIL_REPLY_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


ngx_int_t ngx_http_dukcapil_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_dukcapil_send_text(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len);
ngx_int_t ngx_http_dukcapil_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *field);
ngx_int_t ngx_http_dukcapil_send_invalid(ngx_http_request_t *r,
    const char *field);
const char *ngx_http_dukcapil_error_message(const char *error);
json_t *ngx_http_dukcapil_error_json(const char *error, const char *field);
void ngx_http_dukcapil_finalize(ngx_http_request_t *r, ngx_int_t rc);


#endif /* _NGX_HTTP_DUKCAPIL_REPLY_H_INCLUDED_ */
