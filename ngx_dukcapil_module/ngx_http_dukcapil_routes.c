
/*
 * The endpoints of API.md by the name dukcapil_endpoint takes, in the order
 * /metrics counts them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_routes.h"


ngx_http_dukcapil_endpoint_t  ngx_http_dukcapil_endpoints[] = {
    { ngx_string("services"), ngx_http_dukcapil_services_handler },
    { ngx_string("availability"), ngx_http_dukcapil_availability_handler },
    { ngx_string("appointments"), ngx_http_dukcapil_booking_handler },
    { ngx_string("appointment"), ngx_http_dukcapil_appointment_handler },
    { ngx_string("applications"), ngx_http_dukcapil_applications_handler },
    { ngx_string("application"), ngx_http_dukcapil_application_handler },
    { ngx_string("ops_application_status"),
      ngx_http_dukcapil_ops_status_handler },
    { ngx_string("ops_application_address"),
      ngx_http_dukcapil_ops_address_handler },
    { ngx_string("ops_appointment_check_in"),
      ngx_http_dukcapil_ops_check_in_handler },
    { ngx_string("ops_appointments"),
      ngx_http_dukcapil_ops_appointments_handler },
    { ngx_string("ops_counter_call"),
      ngx_http_dukcapil_ops_counter_call_handler },
    { ngx_string("ops_counter_step"),
      ngx_http_dukcapil_ops_counter_step_handler },
    { ngx_string("display"), ngx_http_dukcapil_display_handler },
    { ngx_string("ops_quota"), ngx_http_dukcapil_ops_quota_handler },
    { ngx_string("ops_closures"), ngx_http_dukcapil_ops_closures_handler },
    { ngx_string("ops_openings"), ngx_http_dukcapil_ops_openings_handler },
    { ngx_string("health"), ngx_http_dukcapil_health_handler },
    { ngx_string("metrics"), ngx_http_dukcapil_metrics_handler },
    { ngx_string("phone_verifications"), ngx_http_dukcapil_otp_handler },
    { ngx_string("phone_verification_confirm"),
      ngx_http_dukcapil_otp_confirm_handler },
    { ngx_string("qr"), ngx_http_dukcapil_qr_handler },
    { ngx_string("ops_applications"),
      ngx_http_dukcapil_ops_applications_handler },
    { ngx_string("ops_application"),
      ngx_http_dukcapil_ops_application_handler },
    { ngx_string("ops_delivery"), ngx_http_dukcapil_ops_delivery_handler },
    { ngx_string("ops_stats"), ngx_http_dukcapil_ops_stats_handler },
    { ngx_null_string, NULL }
};
