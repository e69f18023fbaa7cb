
/*
 * GET /api/v1/services: the offices and the services they offer, from the
 * configuration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_reply.h"


ngx_int_t
ngx_http_dukcapil_services_handler(ngx_http_request_t *r)
{
    json_t                         *json, *offices, *services;
    ngx_int_t                       rc;
    ngx_uint_t                      i;
    ngx_http_dukcapil_office_t     *office;
    ngx_http_dukcapil_service_t    *s;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    rc = ngx_http_dukcapil_no_body(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_OK) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    offices = json_array();
    services = json_array();
    json = json_pack("{s:o, s:o}", "offices", offices, "services", services);

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    office = dmcf->offices->elts;

    for (i = 0; i < dmcf->offices->nelts; i++) {
        json_array_append_new(offices,
                              json_pack("{s:s%, s:s%}",
                                        "code", office[i].code.data,
                                        office[i].code.len,
                                        "name", office[i].name.data,
                                        office[i].name.len));
    }

    for (i = 0; i < NGX_HTTP_DUKCAPIL_SERVICES; i++) {
        s = &dmcf->services[i];

        if (!s->enabled) {
            continue;
        }

        json_array_append_new(services,
                              json_pack("{s:s%, s:s%, s:I}",
                                        "code", s->code.data, s->code.len,
                                        "name", s->name.data, s->name.len,
                                        "quota", (json_int_t) s->quota));
    }

    return ngx_http_dukcapil_send_json(r, NGX_HTTP_OK, json);
}
