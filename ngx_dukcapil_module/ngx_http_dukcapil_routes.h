
/*
 * The endpoints by the name dukcapil_endpoint takes
 * (ngx_http_dukcapil_routes.c).
 */


#ifndef _NGX_HTTP_DUKCAPIL_ROUTES_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_ROUTES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_conf.h"


/* ending in a null name */
extern ngx_http_dukcapil_endpoint_t  ngx_http_dukcapil_endpoints[];


#endif /* _NGX_HTTP_DUKCAPIL_ROUTES_H_INCLUDED_ */
