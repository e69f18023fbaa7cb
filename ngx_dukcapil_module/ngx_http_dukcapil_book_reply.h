
/*
 * A booking's answers that say more than an error (booking.c decides which
 * one): the 201 of its committed row, and the 403 of a no-show bar.
 */


#ifndef _NGX_HTTP_DUKCAPIL_BOOK_REPLY_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_BOOK_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_admission.h"
#include "ngx_http_dukcapil_job.h"


/* queue: the queue number book.lua handed out, in decimal */
void ngx_http_dukcapil_book_reply_created(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, const char *queue);

/* until: the bar's last day as the script read it (may be empty) */
void ngx_http_dukcapil_book_reply_barred(ngx_http_dukcapil_job_t *job,
    ngx_str_t *until);


#endif /* _NGX_HTTP_DUKCAPIL_BOOK_REPLY_H_INCLUDED_ */
