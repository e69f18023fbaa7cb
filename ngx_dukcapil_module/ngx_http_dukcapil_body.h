
/*
 * What a request brings: its JSON body, the X-NIK header, the code in its
 * URI, its query arguments.
 */


#ifndef _NGX_HTTP_DUKCAPIL_BODY_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_dukcapil_conf.h"
#include "code.h"
#include "flat_json.h"


/*
 * A JSON body whose string fields are read by name.  The shape nearly
 * every client sends, one object of plain ASCII strings, is read where it
 * lies (domain/flat_json.c); any other goes through jansson, which also
 * answers for malformed JSON.  At the 07:00 rush jansson's parse was the
 * largest cost of a booking (BENCHMARKS.md).
 */
#define NGX_HTTP_DUKCAPIL_BODY_FIELDS  16

typedef struct {
    json_t                          *json;       /* NULL: read in place */
    int                              n;
    dk_json_member                   member[NGX_HTTP_DUKCAPIL_BODY_FIELDS];
} ngx_http_dukcapil_body_t;


void *ngx_http_dukcapil_json_malloc(size_t size);
void ngx_http_dukcapil_json_free(void *ptr);
ngx_int_t ngx_http_dukcapil_no_body(ngx_http_request_t *r,
    ngx_uint_t methods);
ngx_int_t ngx_http_dukcapil_read_json(ngx_http_request_t *r,
    ngx_uint_t method, ngx_http_client_body_handler_pt post);
json_t *ngx_http_dukcapil_body_json(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc);
ngx_int_t ngx_http_dukcapil_json_string(json_t *obj, const char *key,
    ngx_str_t *value);
ngx_int_t ngx_http_dukcapil_body_fields(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_http_dukcapil_body_t *body, ngx_int_t *rc);
ngx_int_t ngx_http_dukcapil_body_string(ngx_http_dukcapil_body_t *body,
    const char *key, ngx_str_t *value);

ngx_int_t ngx_http_dukcapil_same_origin(ngx_http_request_t *r);
ngx_table_elt_t *ngx_http_dukcapil_header(ngx_http_request_t *r,
    const char *name, size_t len);
ngx_int_t ngx_http_dukcapil_header_nik(ngx_http_request_t *r,
    u_char nik[16]);
ngx_int_t ngx_http_dukcapil_uri_code(ngx_http_request_t *r,
    ngx_uint_t from_end, char prefix, char code[DK_CODE_LEN + 1]);
ngx_int_t ngx_http_dukcapil_arg_date(ngx_http_request_t *r, char *name,
    size_t len, int32_t *day);


#endif /* _NGX_HTTP_DUKCAPIL_BODY_H_INCLUDED_ */
