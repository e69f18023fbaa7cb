
/*
 * What the counter's endpoints share with the day's list: a NIK answered
 * to an operator, masked.
 */


#ifndef _NGX_HTTP_DUKCAPIL_QUEUE_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_QUEUE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>
#include <libpq-fe.h>


void ngx_http_dukcapil_queue_nik(json_t *json, PGresult *res, int row,
    int col);


#endif /* _NGX_HTTP_DUKCAPIL_QUEUE_H_INCLUDED_ */
