
/*
 * Layanan Online Disdukcapil Kota Pekanbaru: the portal API inside nginx.
 */


#ifndef _NGX_HTTP_DUKCAPIL_MODULE_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "wib.h"
#include "code.h"


#define NGX_HTTP_DUKCAPIL_SERVICES     7
#define NGX_HTTP_DUKCAPIL_BODY_MAX     16384
#define NGX_HTTP_DUKCAPIL_MAX_RANGE    31

#define NGX_HTTP_UNPROCESSABLE_ENTITY  422


typedef struct ngx_http_dukcapil_redis_op_s  ngx_http_dukcapil_redis_op_t;
typedef struct ngx_http_dukcapil_pg_op_s     ngx_http_dukcapil_pg_op_t;


typedef struct {
    ngx_str_t                     code;
    ngx_str_t                     name;
} ngx_http_dukcapil_office_t;


typedef struct {
    ngx_str_t                     code;
    ngx_str_t                     name;
    ngx_int_t                     quota;
    ngx_str_t                     quota_arg;   /* quota, for the script */
    ngx_flag_t                    enabled;
} ngx_http_dukcapil_service_t;


typedef struct {
    ngx_str_t                     redis_host;      /* IP or unix socket path */
    in_port_t                     redis_port;      /* 0: unix socket */
    ngx_msec_t                    redis_connect_timeout;
    ngx_msec_t                    redis_timeout;

    ngx_str_t                     pg_conninfo;
    ngx_uint_t                    pg_pool;
    ngx_msec_t                    pg_timeout;

    ngx_array_t                  *offices;   /* ngx_http_dukcapil_office_t */
    ngx_http_dukcapil_service_t   services[NGX_HTTP_DUKCAPIL_SERVICES];

    ngx_uint_t                    closed_weekdays;  /* bit 0: Sunday */
    ngx_int_t                     booking_window;
    ngx_int_t                     phone_cap;
    ngx_str_t                     phone_cap_arg;   /* for the script */
    time_t                        idempotency_ttl;

    ngx_shm_zone_t               *metrics_zone;
    ngx_flag_t                    enabled;    /* a location uses an endpoint */
} ngx_http_dukcapil_main_conf_t;


typedef ngx_int_t (*ngx_http_dukcapil_endpoint_pt)(ngx_http_request_t *r);

typedef struct {
    ngx_http_dukcapil_endpoint_pt  endpoint;
    ngx_uint_t                     metric;
} ngx_http_dukcapil_loc_conf_t;


/* the service codes of the API, in the order of the services[] array */
extern ngx_str_t  ngx_http_dukcapil_service_codes[];

extern ngx_module_t  ngx_http_dukcapil_module;


ngx_int_t ngx_http_dukcapil_service_index(ngx_str_t *code);
ngx_http_dukcapil_office_t *ngx_http_dukcapil_office(
    ngx_http_dukcapil_main_conf_t *dmcf, ngx_str_t *code);
ngx_int_t ngx_http_dukcapil_day_open(ngx_http_dukcapil_main_conf_t *dmcf,
    int32_t day);
int32_t ngx_http_dukcapil_today(void);
ngx_int_t ngx_http_dukcapil_code(char prefix, char code[DK_CODE_LEN + 1]);
u_char *ngx_http_dukcapil_decimal(u_char *p, ngx_int_t n);

/* endpoints */
ngx_int_t ngx_http_dukcapil_services_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_metrics_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_availability_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_appointments_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_appointment_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_applications_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_application_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_check_in_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dukcapil_ops_quota_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_DUKCAPIL_MODULE_H_INCLUDED_ */
