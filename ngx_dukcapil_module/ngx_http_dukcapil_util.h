
/*
 * Small helpers of the module's run time: the configured offices,
 * services and days, the quota of a day, codes for citizens, numbers in
 * decimal.
 */


#ifndef _NGX_HTTP_DUKCAPIL_UTIL_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_UTIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_conf.h"
#include "code.h"
#include "keys.h"


/* a string literal copied, without its NUL */
#define ngx_http_dukcapil_cat(p, s)  ngx_cpymem(p, s, sizeof(s) - 1)


/* the service codes of the API, in the order of the services[] array */
extern ngx_str_t  ngx_http_dukcapil_service_codes[];


ngx_int_t ngx_http_dukcapil_service_index(ngx_str_t *code);
ngx_http_dukcapil_office_t *ngx_http_dukcapil_office(
    ngx_http_dukcapil_main_conf_t *dmcf, ngx_str_t *code);

uint64_t ngx_http_dukcapil_now_ms(void);
int32_t ngx_http_dukcapil_today(void);
ngx_int_t ngx_http_dukcapil_day_in_window(
    ngx_http_dukcapil_main_conf_t *dmcf, int32_t day);
ngx_int_t ngx_http_dukcapil_weekday_closed(
    ngx_http_dukcapil_main_conf_t *dmcf, int32_t day);
ngx_int_t ngx_http_dukcapil_day_open(ngx_http_dukcapil_main_conf_t *dmcf,
    int32_t day, dk_calendar calendar);
ngx_int_t ngx_http_dukcapil_quota(ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_uint_t service, int32_t day, ngx_int_t override,
    dk_calendar calendar);

ngx_int_t ngx_http_dukcapil_code(char prefix, char code[DK_CODE_LEN + 1]);
u_char *ngx_http_dukcapil_decimal(u_char *p, ngx_int_t n);


#endif /* _NGX_HTTP_DUKCAPIL_UTIL_H_INCLUDED_ */
