
/*
 * The module's configuration as every file of it sees it: offices,
 * services, the stores, the endpoints.  Types only: what reads or sets
 * them lives in the files above.
 */


#ifndef _NGX_HTTP_DUKCAPIL_CONF_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_DUKCAPIL_SERVICES     7
#define NGX_HTTP_DUKCAPIL_BODY_MAX     16384
#define NGX_HTTP_DUKCAPIL_MAX_RANGE    31

#define NGX_HTTP_UNPROCESSABLE_ENTITY  422


/* the module's Redis scripts, lua/<name>.lua built in */
typedef enum {
    NGX_HTTP_DUKCAPIL_SCRIPT_BOOK = 0,
    NGX_HTTP_DUKCAPIL_SCRIPT_RELEASE,
    NGX_HTTP_DUKCAPIL_SCRIPT_CALENDAR,
    NGX_HTTP_DUKCAPIL_SCRIPT_OTP_SEND,
    NGX_HTTP_DUKCAPIL_SCRIPT_OTP_CONFIRM,
    NGX_HTTP_DUKCAPIL_SCRIPTS
} ngx_http_dukcapil_script_e;


typedef ngx_int_t (*ngx_http_dukcapil_endpoint_pt)(ngx_http_request_t *r);

/* an endpoint of API.md, turned on in a location by dukcapil_endpoint */
typedef struct {
    ngx_str_t                       name;
    ngx_http_dukcapil_endpoint_pt   handler;
} ngx_http_dukcapil_endpoint_t;


typedef struct {
    ngx_str_t                       code;
    ngx_str_t                       name;
} ngx_http_dukcapil_office_t;


/* a Sentinel of dukcapil_redis_sentinel: an IP, never a name */
typedef struct {
    ngx_str_t                       host;        /* NUL-terminated */
    in_port_t                       port;
} ngx_http_dukcapil_sentinel_t;


typedef struct {
    ngx_str_t                       code;
    ngx_str_t                       name;
    ngx_int_t                       quota;
    ngx_str_t                       quota_arg;   /* quota, for the script */
    ngx_flag_t                      enabled;
} ngx_http_dukcapil_service_t;


typedef struct {
    ngx_str_t                       redis_host;  /* IP or unix socket path */
    in_port_t                       redis_port;  /* 0: unix socket */
    ngx_msec_t                      redis_connect_timeout;
    ngx_msec_t                      redis_timeout;
    ngx_uint_t                      redis_queue;  /* commands in flight */
    /* dukcapil_redis_auth: read with the configuration, never logged */
    ngx_str_t                       redis_auth_file;
    ngx_str_t                       redis_user;      /* empty: "default" */
    ngx_str_t                       redis_password;  /* empty: no AUTH */
    /* dukcapil_redis_sentinel: the master is asked for, not configured */
    ngx_array_t                    *redis_sentinels;
    ngx_str_t                       redis_master_name;
    ngx_str_t                       sentinel_auth_file;
    ngx_str_t                       sentinel_user;
    ngx_str_t                       sentinel_password;

    ngx_str_t                       pg_conninfo;
    ngx_uint_t                      pg_pool;
    ngx_msec_t                      pg_timeout;

    ngx_array_t                    *offices;  /* ngx_http_dukcapil_office_t */
    ngx_http_dukcapil_service_t     services[NGX_HTTP_DUKCAPIL_SERVICES];

    ngx_uint_t                      closed_weekdays;  /* bit 0: Sunday */
    ngx_int_t                       booking_window;
    ngx_int_t                       phone_cap;
    ngx_str_t                       phone_cap_arg;   /* for the script */
    ngx_int_t                       phone_active_cap;  /* across dates */
    ngx_str_t                       phone_active_cap_arg;
    time_t                          idempotency_ttl;

    /* phone verification: the codes, and the tokens that prove one */
    ngx_str_t                       token_secret;  /* never logged */
    time_t                          phone_token_ttl;
    time_t                          otp_ttl;
    ngx_int_t                       otp_daily_budget;

    /* the operators' endpoints' locations, checked for auth_basic */
    ngx_array_t                    *ops_locations;

    /* the endpoints, ending in a null name: what /metrics counts */
    ngx_http_dukcapil_endpoint_t   *endpoints;
    ngx_shm_zone_t                 *metrics_zone;
    ngx_flag_t                      enabled;  /* a location uses an endpoint */
} ngx_http_dukcapil_main_conf_t;


typedef struct {
    ngx_http_dukcapil_endpoint_t   *endpoint;
    ngx_uint_t                      metric;   /* 1 + its index; 0: none */
    ngx_flag_t                      phone_verification;
} ngx_http_dukcapil_loc_conf_t;


extern ngx_module_t  ngx_http_dukcapil_module;


#endif /* _NGX_HTTP_DUKCAPIL_CONF_H_INCLUDED_ */
