
/*
 * The endpoints of API.md, each a location's content handler, turned on
 * by dukcapil_endpoint (ngx_http_dukcapil_module.c).
 */


#ifndef _NGX_HTTP_DUKCAPIL_ENDPOINTS_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_ENDPOINTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_conf.h"


ngx_int_t ngx_http_dukcapil_services_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_availability_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_booking_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_appointment_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_applications_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_application_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_address_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_check_in_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_appointments_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_counter_call_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_counter_step_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_display_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_quota_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_closures_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_openings_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_applications_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_application_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_delivery_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_stats_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_otp_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_otp_confirm_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_qr_handler(ngx_http_request_t *r);



#endif /* _NGX_HTTP_DUKCAPIL_ENDPOINTS_H_INCLUDED_ */
