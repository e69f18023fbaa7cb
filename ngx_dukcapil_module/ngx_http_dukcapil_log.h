
/*
 * The access log's variables: what may be logged of a request's path, its
 * User-Agent and its Basic user name.
 */


#ifndef _NGX_HTTP_DUKCAPIL_LOG_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_LOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_dukcapil_log_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_DUKCAPIL_LOG_H_INCLUDED_ */
