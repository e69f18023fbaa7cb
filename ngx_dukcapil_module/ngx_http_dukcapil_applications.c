
/*
 * Applications and the back office (issue 4): not built yet.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_module.h"
#include "ngx_http_dukcapil_reply.h"


ngx_int_t
ngx_http_dukcapil_applications_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}


ngx_int_t
ngx_http_dukcapil_application_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}


ngx_int_t
ngx_http_dukcapil_ops_status_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}


ngx_int_t
ngx_http_dukcapil_ops_check_in_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}


ngx_int_t
ngx_http_dukcapil_ops_quota_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}
