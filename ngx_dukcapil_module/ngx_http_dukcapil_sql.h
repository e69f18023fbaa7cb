
/*
 * Every statement the module sends, prepared on each connection.
 */


#ifndef _NGX_HTTP_DUKCAPIL_SQL_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_SQL_H_INCLUDED_


#include "ngx_http_dukcapil_pg_conn.h"


typedef enum {
    NGX_HTTP_DUKCAPIL_SQL_PING = 0,
    NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_INSERT,
    NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_GET,
    NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_SETTLE,
    NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_CANCEL,
    NGX_HTTP_DUKCAPIL_SQL_APPOINTMENT_CHECK_IN,
    NGX_HTTP_DUKCAPIL_SQL_QUOTA_SET,
    NGX_HTTP_DUKCAPIL_SQL_APPLICATION_INSERT,
    NGX_HTTP_DUKCAPIL_SQL_APPLICATION_GET,
    NGX_HTTP_DUKCAPIL_SQL_APPLICATION_TRANSITION,
    NGX_HTTP_DUKCAPIL_SQL_APPLICATION_ADDRESS,
    NGX_HTTP_DUKCAPIL_SQL_OTP_NOTIFY,
    NGX_HTTP_DUKCAPIL_SQL_N
} ngx_http_dukcapil_sql_e;


extern ngx_http_dukcapil_statement_t  ngx_http_dukcapil_statements[];
extern const ngx_uint_t               ngx_http_dukcapil_nstatements;


#endif /* _NGX_HTTP_DUKCAPIL_SQL_H_INCLUDED_ */
