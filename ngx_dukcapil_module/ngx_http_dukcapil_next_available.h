
/*
 * The first later open day with room for a service, offered when a day
 * is full so that the citizen is not left guessing, and that answer.
 */


#ifndef _NGX_HTTP_DUKCAPIL_NEXT_AVAILABLE_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_NEXT_AVAILABLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_job.h"


/* next: the day found, or -1 for none (or none could be read) */
typedef void (*ngx_http_dukcapil_next_pt)(ngx_http_dukcapil_job_t *job,
    int32_t next);


void ngx_http_dukcapil_next_available(ngx_http_dukcapil_job_t *job,
    ngx_str_t *office, ngx_uint_t service, int32_t day,
    ngx_http_dukcapil_next_pt done);
void ngx_http_dukcapil_quota_full(ngx_http_dukcapil_job_t *job,
    int32_t next);


#endif /* _NGX_HTTP_DUKCAPIL_NEXT_AVAILABLE_H_INCLUDED_ */
