
/*
 * A booking whose INSERT got no answer (PostgreSQL hung, the connection
 * was lost) may have committed.  Its citizen has heard 503; its admission
 * stays until the booking is settled here: once the backend that ran the
 * INSERT is gone, the row is there or it never will be.
 */


#ifndef _NGX_HTTP_DUKCAPIL_SETTLE_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_SETTLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_admission.h"


/* the job is kept (job->keep) until then, and freed here */
void ngx_http_dukcapil_settle(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, ngx_uint_t backend);


#endif /* _NGX_HTTP_DUKCAPIL_SETTLE_H_INCLUDED_ */
