
/*
 * A booking's answers that say more than an error: the 201 of its
 * committed row and the 403 of a no-show bar.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_book_reply.h"
#include "ngx_http_dukcapil_reply.h"


/*
 * The committed row's answer: at once, or, once a lost answer is settled
 * as committed, for the Idempotency-Key's retries (dukcapil_bookings_total
 * counted it as failed, dukcapil_bookings_settled_total as committed).
 */

void
ngx_http_dukcapil_book_reply_created(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, const char *queue)
{
    u_char  *p;

    p = ngx_pnalloc(job->pool, sizeof("/api/v1/appointments/") - 1
                               + DK_CODE_LEN);
    if (p) {
        job->location.data = p;
        job->location.len = ngx_sprintf(p, "/api/v1/appointments/%s", a->code)
                            - p;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_CREATED,
        json_pack("{s:s, s:i, s:s%, s:s, s:s, s:s}",
                  "code", a->code,
                  "queue_number", (int) ngx_atoi((u_char *) queue,
                                                 ngx_strlen(queue)),
                  "office", a->office.data, a->office.len,
                  "service", job->dmcf->services[a->service].code.data,
                  "date", a->date,
                  "status", "booked"));
}


void
ngx_http_dukcapil_book_reply_barred(ngx_http_dukcapil_job_t *job,
    ngx_str_t *until)
{
    json_t  *json;

    json = ngx_http_dukcapil_error_json("no_show_bar", NULL);

    if (json) {
        json_object_set_new(json, "until",
                            json_stringn(until->len
                                         ? (char *) until->data : "",
                                         until->len));
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_FORBIDDEN, json);
}
