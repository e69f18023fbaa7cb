
/*
 * Settling a booking whose outcome is unknown.  Its citizen hears 503 at
 * once; the job lives on (job->keep) with its Idempotency-Key still
 * claimed (job->unsettled), and once the truth is known that truth is the
 * key's answer: the 201 of the row that committed, or nothing kept, so
 * that a retry with the key is decided afresh.
 *
 *  - An INSERT that got no answer (PostgreSQL hung, the connection was
 *    lost) may have committed: once the backend that ran it is gone, the
 *    row is there or it never will be.  There: committed() answers.  Not
 *    there: the admission is given back.
 *  - A book.lua call that got no answer (Redis paused, slow, the
 *    connection lost) may have admitted the booking: no INSERT was sent,
 *    so the admission, if any, is given back.  The release follows the
 *    call on the same connection, so Redis runs it after the call.
 */


#ifndef _NGX_HTTP_DUKCAPIL_SETTLE_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_SETTLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_admission.h"


/* each answers 503 now, and frees the job once settled */

void ngx_http_dukcapil_settle_insert(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, ngx_uint_t backend,
    ngx_http_dukcapil_job_pt committed);
void ngx_http_dukcapil_settle_admission(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a);


#endif /* _NGX_HTTP_DUKCAPIL_SETTLE_H_INCLUDED_ */
