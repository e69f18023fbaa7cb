
/*
 * An appointment's admission in Redis: the keys of its office's day, and
 * the release of its slot (lua/release.lua) after a cancellation or a
 * booking PostgreSQL refused.
 */


#ifndef _NGX_HTTP_DUKCAPIL_ADMISSION_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_ADMISSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_job.h"
#include "code.h"
#include "keys.h"
#include "wib.h"


/* an appointment as the jobs that write it know it */
typedef struct {
    char                          code[DK_CODE_LEN + 1];
    u_char                        nik[17];
    ngx_str_t                     office;
    ngx_uint_t                    service;
    int32_t                       day;
    char                          date[DK_DATE_LEN + 1];
    u_char                        keys[DK_DAY_KEYS][DK_KEY_MAX];
} ngx_http_dukcapil_appointment_t;


ngx_int_t ngx_http_dukcapil_admission_keys(
    ngx_http_dukcapil_appointment_t *a);
void ngx_http_dukcapil_admission_release(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a,
    ngx_http_dukcapil_redis_done_pt done, void *data);


#endif /* _NGX_HTTP_DUKCAPIL_ADMISSION_H_INCLUDED_ */
