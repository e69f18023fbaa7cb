
/*
 * Counters shared by all workers, shown at /metrics in Prometheus text.
 */


#ifndef _NGX_HTTP_DUKCAPIL_METRICS_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_conf.h"


typedef enum {
    NGX_HTTP_DUKCAPIL_BOOKED = 0,
    NGX_HTTP_DUKCAPIL_QUOTA_FULL,
    NGX_HTTP_DUKCAPIL_ALREADY_BOOKED,
    NGX_HTTP_DUKCAPIL_PHONE_LIMIT,
    NGX_HTTP_DUKCAPIL_NO_SHOW_BAR,
    NGX_HTTP_DUKCAPIL_CLOSED,
    NGX_HTTP_DUKCAPIL_REBUILDING,
    NGX_HTTP_DUKCAPIL_RELEASED,
    NGX_HTTP_DUKCAPIL_FAILED,
    NGX_HTTP_DUKCAPIL_OUTCOMES
} ngx_http_dukcapil_outcome_e;


/* how a booking whose outcome was unknown was settled */
typedef enum {
    NGX_HTTP_DUKCAPIL_SETTLED_COMMITTED = 0,
    NGX_HTTP_DUKCAPIL_SETTLED_RELEASED,
    NGX_HTTP_DUKCAPIL_SETTLED_LEFT,           /* to the nightly reconcile */
    NGX_HTTP_DUKCAPIL_SETTLED
} ngx_http_dukcapil_settled_e;


/* what became of a request for a verification code */
typedef enum {
    NGX_HTTP_DUKCAPIL_OTP_SENT = 0,
    NGX_HTTP_DUKCAPIL_OTP_TOO_MANY,           /* the phone's limits */
    NGX_HTTP_DUKCAPIL_OTP_BUDGET_EXHAUSTED,   /* the city's daily budget */
    NGX_HTTP_DUKCAPIL_OTP_OUTCOMES
} ngx_http_dukcapil_otp_outcome_e;


/* at most this many endpoints are counted */
#define NGX_HTTP_DUKCAPIL_ENDPOINTS  32


ngx_int_t ngx_http_dukcapil_metrics_init(ngx_conf_t *cf,
    ngx_http_dukcapil_endpoint_t *endpoints);
ngx_int_t ngx_http_dukcapil_metrics_handler(ngx_http_request_t *r);
void ngx_http_dukcapil_metrics_booking(ngx_uint_t outcome);
void ngx_http_dukcapil_metrics_script_call(ngx_uint_t script);
void ngx_http_dukcapil_metrics_settled(ngx_uint_t how);
void ngx_http_dukcapil_metrics_otp(ngx_uint_t outcome);


#endif /* _NGX_HTTP_DUKCAPIL_METRICS_H_INCLUDED_ */
