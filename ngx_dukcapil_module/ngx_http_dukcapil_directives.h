
/*
 * The checks of the module's directives that nginx's own slot setters do
 * not make: addresses that never need DNS, offices and services, closed
 * weekdays, bounds that name the directive, and an operator's endpoint
 * never without authentication.
 */


#ifndef _NGX_HTTP_DUKCAPIL_DIRECTIVES_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_DIRECTIVES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_conf.h"


char *ngx_http_dukcapil_redis_address(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_dukcapil_postgres(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_dukcapil_office_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_dukcapil_service_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_dukcapil_closed_weekdays(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_dukcapil_positive_msec(ngx_conf_t *cf, void *post,
    void *data);
char *ngx_http_dukcapil_bounds(ngx_conf_t *cf, void *post, void *data);
char *ngx_http_dukcapil_conf_complete(ngx_conf_t *cf,
    ngx_http_dukcapil_main_conf_t *dmcf);
ngx_int_t ngx_http_dukcapil_decimal_arg(ngx_conf_t *cf, ngx_int_t n,
    ngx_str_t *arg);

ngx_int_t ngx_http_dukcapil_ops_location(ngx_conf_t *cf,
    ngx_http_dukcapil_main_conf_t *dmcf, ngx_str_t *endpoint);
ngx_int_t ngx_http_dukcapil_ops_authenticated(ngx_conf_t *cf,
    ngx_http_dukcapil_main_conf_t *dmcf);


#endif /* _NGX_HTTP_DUKCAPIL_DIRECTIVES_H_INCLUDED_ */
