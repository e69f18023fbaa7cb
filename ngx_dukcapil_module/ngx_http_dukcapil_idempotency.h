
/*
 * Idempotency-Key: a write sent again with the same key and body gets the
 * first answer again, and does nothing twice.  Redis holds the key:
 * "P|<body hash>" while the first request runs, "D|<body hash>|<status>|
 * <answer>" for dukcapil_idempotency_ttl once it has answered.
 */


#ifndef _NGX_HTTP_DUKCAPIL_IDEMPOTENCY_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_IDEMPOTENCY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_job.h"


void ngx_http_dukcapil_idempotency_claim(ngx_http_dukcapil_job_t *job,
    ngx_str_t *body, ngx_http_dukcapil_job_pt next);
ngx_int_t ngx_http_dukcapil_idempotency_prepare(ngx_http_dukcapil_job_t *job,
    ngx_str_t *body);
void ngx_http_dukcapil_idempotency_args(ngx_http_dukcapil_job_t *job,
    const char **key, const char **claim, const char **ttl);
void ngx_http_dukcapil_idempotency_claimed_by_script(
    ngx_http_dukcapil_job_t *job);


#endif /* _NGX_HTTP_DUKCAPIL_IDEMPOTENCY_H_INCLUDED_ */
