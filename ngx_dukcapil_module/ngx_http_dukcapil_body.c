
/*
 * What a request brings.  A body is read whole into memory, at most
 * NGX_HTTP_DUKCAPIL_BODY_MAX bytes, and never from a temporary file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_reply.h"
#include "nik.h"
#include "wib.h"


#define NGX_HTTP_DUKCAPIL_JSON_TAG  16


static ngx_int_t ngx_http_dukcapil_body_raw(ngx_http_request_t *r,
    ngx_str_t *raw, ngx_int_t *rc);
static json_t *ngx_http_dukcapil_body_parse(ngx_http_request_t *r,
    ngx_str_t *raw, ngx_int_t *rc);


static ngx_pool_t  *ngx_http_dukcapil_json_pool;


/*
 * A request of one of methods that brings no body: NGX_OK, or the status
 * to answer.
 */
ngx_int_t
ngx_http_dukcapil_no_body(ngx_http_request_t *r, ngx_uint_t methods)
{
    if (!(r->method & methods)) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_discard_request_body(r);
}


/* a request of method with a JSON body, read whole, then handed to post */

ngx_int_t
ngx_http_dukcapil_read_json(ngx_http_request_t *r, ngx_uint_t method,
    ngx_http_client_body_handler_pt post)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *ct;

    if (r->method != method) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ct = r->headers_in.content_type;

    if (ct == NULL
        || ct->value.len < sizeof("application/json") - 1
        || ngx_strncasecmp(ct->value.data, (u_char *) "application/json",
                           sizeof("application/json") - 1)
           != 0
        || (ct->value.len > sizeof("application/json") - 1
            && ct->value.data[sizeof("application/json") - 1] != ';'
            && ct->value.data[sizeof("application/json") - 1] != ' '))
    {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_dukcapil_send_error(r,
                                            NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                            "unsupported_media_type", NULL);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_DUKCAPIL_BODY_MAX) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->keepalive = 0;

        return ngx_http_dukcapil_send_error(r,
                                            NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                            "body_too_large", NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, post);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * The body as a JSON object, or NULL with *rc the answer already sent.
 */
json_t *
ngx_http_dukcapil_body_json(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc)
{
    if (ngx_http_dukcapil_body_raw(r, raw, rc) != NGX_OK) {
        return NULL;
    }

    return ngx_http_dukcapil_body_parse(r, raw, rc);
}


/*
 * The body's fields, or NGX_ERROR with *rc the answer already sent: read
 * in place when the body has the common shape, else by jansson.
 */
ngx_int_t
ngx_http_dukcapil_body_fields(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_http_dukcapil_body_t *body, ngx_int_t *rc)
{
    if (ngx_http_dukcapil_body_raw(r, raw, rc) != NGX_OK) {
        return NGX_ERROR;
    }

    body->n = dk_flat_json((char *) raw->data, raw->len, body->member,
                           NGX_HTTP_DUKCAPIL_BODY_FIELDS);

    if (body->n >= 0) {
        body->json = NULL;
        return NGX_OK;
    }

    body->json = ngx_http_dukcapil_body_parse(r, raw, rc);

    return body->json ? NGX_OK : NGX_ERROR;
}


/* as ngx_http_dukcapil_json_string() */

ngx_int_t
ngx_http_dukcapil_body_string(ngx_http_dukcapil_body_t *body,
    const char *key, ngx_str_t *value)
{
    int              i;
    size_t           len;
    dk_json_member  *m;

    if (body->json) {
        return ngx_http_dukcapil_json_string(body->json, key, value);
    }

    len = ngx_strlen(key);

    for (i = 0; i < body->n; i++) {
        m = &body->member[i];

        if (m->key_len == len && ngx_memcmp(m->key, key, len) == 0) {
            value->data = (u_char *) m->value;
            value->len = m->value_len;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The body's bytes in one buffer of the request's pool, or NGX_ERROR with
 * *rc the answer already sent.  A body that nginx wrote to a temporary
 * file is too large by definition: it is refused, never read back from
 * disk.
 */
static ngx_int_t
ngx_http_dukcapil_body_raw(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc)
{
    u_char                   *p;
    size_t                    len;
    ngx_buf_t                *b;
    ngx_chain_t              *cl;
    ngx_http_request_body_t  *rb;

    rb = r->request_body;
    len = 0;

    if (rb && rb->temp_file) {
        goto too_large;
    }

    for (cl = rb ? rb->bufs : NULL; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file && !ngx_buf_in_memory(b)) {
            goto too_large;
        }

        len += b->last - b->pos;
    }

    if (len > NGX_HTTP_DUKCAPIL_BODY_MAX) {
        goto too_large;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    raw->data = p;
    raw->len = len;

    for (cl = rb ? rb->bufs : NULL; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    return NGX_OK;

too_large:

    r->keepalive = 0;

    *rc = ngx_http_dukcapil_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "body_too_large", NULL);
    return NGX_ERROR;
}


/* the body as a JSON object, or NULL with *rc the answer already sent */

static json_t *
ngx_http_dukcapil_body_parse(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_int_t *rc)
{
    json_t        *json;
    json_error_t   err;

    /*
     * "\u0000" is valid JSON: it is let through to the field's own check,
     * which refuses it, since every value is handled with its length.
     * The tree is built in the request's pool and goes with it.
     */
    ngx_http_dukcapil_json_pool = r->pool;

    json = json_loadb((char *) raw->data, raw->len,
                      JSON_REJECT_DUPLICATES|JSON_ALLOW_NUL, &err);

    ngx_http_dukcapil_json_pool = NULL;

    if (json == NULL || !json_is_object(json)) {
        *rc = ngx_http_dukcapil_send_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_json", NULL);
        return NULL;
    }

    return json;
}


/*
 * jansson's allocator: while a body is parsed, from the request's pool (a
 * parse costs a dozen small allocations, on the hottest path there is);
 * otherwise from the heap.  A tag before each block tells free() which.
 */
void *
ngx_http_dukcapil_json_malloc(size_t size)
{
    u_char  *p;

    if (ngx_http_dukcapil_json_pool) {
        p = ngx_palloc(ngx_http_dukcapil_json_pool,
                       size + NGX_HTTP_DUKCAPIL_JSON_TAG);
        if (p == NULL) {
            return NULL;
        }

        p[0] = 'P';

    } else {
        p = malloc(size + NGX_HTTP_DUKCAPIL_JSON_TAG);
        if (p == NULL) {
            return NULL;
        }

        p[0] = 'M';
    }

    return p + NGX_HTTP_DUKCAPIL_JSON_TAG;
}


void
ngx_http_dukcapil_json_free(void *ptr)
{
    u_char  *p;

    if (ptr == NULL) {
        return;
    }

    p = (u_char *) ptr - NGX_HTTP_DUKCAPIL_JSON_TAG;

    if (p[0] == 'M') {
        free(p);
    }
}


/* NGX_OK, NGX_DECLINED when absent or null, NGX_ERROR when not a string */

ngx_int_t
ngx_http_dukcapil_json_string(json_t *obj, const char *key, ngx_str_t *value)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return NGX_DECLINED;
    }

    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    return NGX_OK;
}


/* a request header by name, or NULL */

ngx_table_elt_t *
ngx_http_dukcapil_header(ngx_http_request_t *r, const char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * Whether a browser sent the request from the service's own pages.  A
 * Sec-Fetch-Site other than same-origin or none, or an Origin other than
 * the request's own scheme://host, is another site's page at work: a form
 * or a fetch riding on an operator's cached credentials.  A request with
 * neither header (curl, a script) is not a browser's, and passes.
 */
ngx_int_t
ngx_http_dukcapil_same_origin(ngx_http_request_t *r)
{
    u_char           *p;
    size_t            len;
    ngx_str_t         scheme;
    ngx_table_elt_t  *h;

    h = ngx_http_dukcapil_header(r, "Sec-Fetch-Site",
                                 sizeof("Sec-Fetch-Site") - 1);

    if (h != NULL
        && !(h->value.len == sizeof("same-origin") - 1
             && ngx_strncasecmp(h->value.data, (u_char *) "same-origin",
                                h->value.len) == 0)
        && !(h->value.len == sizeof("none") - 1
             && ngx_strncasecmp(h->value.data, (u_char *) "none",
                                h->value.len) == 0))
    {
        return NGX_DECLINED;
    }

    h = ngx_http_dukcapil_header(r, "Origin", sizeof("Origin") - 1);
    if (h == NULL) {
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    } else
#endif
    {
        ngx_str_set(&scheme, "http://");
    }

    p = h->value.data;
    len = h->value.len;

    if (r->headers_in.host == NULL
        || len != scheme.len + r->headers_in.host->value.len
        || ngx_strncasecmp(p, scheme.data, scheme.len) != 0
        || ngx_strncasecmp(p + scheme.len, r->headers_in.host->value.data,
                           r->headers_in.host->value.len)
           != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* NGX_OK with the 16 digits, NGX_DECLINED when absent, NGX_ERROR if bad */

ngx_int_t
ngx_http_dukcapil_header_nik(ngx_http_request_t *r, u_char nik[16])
{
    ngx_table_elt_t  *h;

    h = ngx_http_dukcapil_header(r, "X-NIK", sizeof("X-NIK") - 1);

    if (h == NULL) {
        return NGX_DECLINED;
    }

    if (dk_nik_valid((char *) h->value.data, h->value.len) != 0) {
        return NGX_ERROR;
    }

    ngx_memcpy(nik, h->value.data, 16);

    return NGX_OK;
}


/* the code in the from_end-th segment of the path, counted from its end */

ngx_int_t
ngx_http_dukcapil_uri_code(ngx_http_request_t *r, ngx_uint_t from_end,
    char prefix, char code[DK_CODE_LEN + 1])
{
    u_char  *start, *end;

    end = r->uri.data + r->uri.len;

    if (end > r->uri.data && end[-1] == '/') {
        end--;
    }

    for ( ;; ) {
        start = end;

        while (start > r->uri.data && start[-1] != '/') {
            start--;
        }

        if (from_end-- == 0) {
            break;
        }

        if (start == r->uri.data) {
            return NGX_ERROR;
        }

        end = start - 1;
    }

    if (dk_code_normalize((char *) start, end - start, prefix, code) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_dukcapil_arg_date(ngx_http_request_t *r, char *name, size_t len,
    int32_t *day)
{
    ngx_str_t  value;

    if (ngx_http_arg(r, (u_char *) name, len, &value) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (dk_date_parse((char *) value.data, value.len, day) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

