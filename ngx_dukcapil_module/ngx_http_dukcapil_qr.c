
/*
 * GET /api/v1/qr/{code}.svg: the QR code of an appointment code, as SVG,
 * for the portal's confirmation page and the citizen's printout.  The code
 * is only drawn, never looked up: no Redis, no PostgreSQL, and the answer
 * never changes, so the browser may keep it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <qrencode.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_reply.h"
#include "code.h"


/* the quiet zone around the symbol, in modules (ISO/IEC 18004) */
#define NGX_HTTP_DUKCAPIL_QR_QUIET  4


static ngx_int_t ngx_http_dukcapil_qr_code(ngx_http_request_t *r,
    char code[DK_CODE_LEN + 1]);
static u_char *ngx_http_dukcapil_qr_svg(ngx_http_request_t *r,
    QRcode *qr, size_t *len);
static ngx_int_t ngx_http_dukcapil_qr_send(ngx_http_request_t *r,
    u_char *svg, size_t len);


ngx_int_t
ngx_http_dukcapil_qr_handler(ngx_http_request_t *r)
{
    char       code[DK_CODE_LEN + 1];
    size_t     len;
    u_char    *svg;
    QRcode    *qr;
    ngx_int_t  rc;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_dukcapil_qr_code(r, code) != NGX_OK) {
        return ngx_http_dukcapil_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found", NULL);
    }

    /* the canonical code is upper case: QR's compact alphanumeric mode */
    qr = QRcode_encodeString(code, 0, QR_ECLEVEL_M, QR_MODE_8, 0);
    if (qr == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                      "dukcapil: QRcode_encodeString() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    svg = ngx_http_dukcapil_qr_svg(r, qr, &len);
    QRcode_free(qr);

    if (svg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_dukcapil_qr_send(r, svg, len);
}


/* the last segment of the URI, "A-7K3M-9QX2-BHT4.svg", read as a code */

static ngx_int_t
ngx_http_dukcapil_qr_code(ngx_http_request_t *r, char code[DK_CODE_LEN + 1])
{
    u_char  *start, *end;

    end = r->uri.data + r->uri.len;

    if (r->uri.len < sizeof(".svg") - 1
        || ngx_strncmp(end - (sizeof(".svg") - 1), ".svg",
                       sizeof(".svg") - 1)
           != 0)
    {
        return NGX_ERROR;
    }

    end -= sizeof(".svg") - 1;
    start = end;

    while (start > r->uri.data && start[-1] != '/') {
        start--;
    }

    if (dk_code_normalize((char *) start, end - start, 'A', code) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * One path: a run of dark modules of a row is "M<x> <y>h<n>v1h-<n>z".
 * A code of 16 characters is a symbol of version 1 or 2 (21 or 25 modules).
 */

static u_char *
ngx_http_dukcapil_qr_svg(ngx_http_request_t *r, QRcode *qr, size_t *len)
{
    int       x, y, run, size;
    u_char   *svg, *p, *last, *row;
    size_t    max;

    size = qr->width + 2 * NGX_HTTP_DUKCAPIL_QR_QUIET;

    max = 512 + (size_t) qr->width * (qr->width / 2 + 1)
                * sizeof("M000 000h000v1h-000z");

    svg = ngx_pnalloc(r->pool, max);
    if (svg == NULL) {
        return NULL;
    }

    last = svg + max;

    p = ngx_slprintf(svg, last,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                     "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\" "
                     "role=\"img\">"
                     "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                     "<path fill=\"#000\" d=\"",
                     size, size, size, size);

    for (y = 0; y < qr->width; y++) {
        row = qr->data + (size_t) y * qr->width;

        for (x = 0; x < qr->width; x += run ? run : 1) {
            run = 0;

            while (x + run < qr->width && (row[x + run] & 1)) {
                run++;
            }

            if (run) {
                p = ngx_slprintf(p, last, "M%d %dh%dv1h-%dz",
                                 x + NGX_HTTP_DUKCAPIL_QR_QUIET,
                                 y + NGX_HTTP_DUKCAPIL_QR_QUIET, run, run);
            }
        }
    }

    p = ngx_slprintf(p, last, "\"/></svg>\n");

    if (p == last) {
        return NULL;
    }

    *len = p - svg;

    return svg;
}


static ngx_int_t
ngx_http_dukcapil_qr_send(ngx_http_request_t *r, u_char *svg, size_t len)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "image/svg+xml");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = len;

    /* a code's picture never changes; shared caches keep no citizen's code */
    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "private, max-age=31536000, immutable");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = svg;
    b->last = svg + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
