
/*
 * The phone_token (domain/token.h): made when a citizen confirms a code,
 * checked by a booking or a submission, with the secret of
 * dukcapil_token_secret and no store: every nginx holding the secret
 * accepts every token, and checking one costs no Redis call.
 */


#ifndef _NGX_HTTP_DUKCAPIL_TOKEN_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_conf.h"
#include "token.h"


char *ngx_http_dukcapil_token_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_dukcapil_token_make(ngx_http_dukcapil_main_conf_t *dmcf,
    const char *phone, char out[DK_TOKEN_LEN + 1], time_t *expiry);
ngx_int_t ngx_http_dukcapil_token_check(ngx_http_request_t *r,
    ngx_str_t *token, const char *phone);


#endif /* _NGX_HTTP_DUKCAPIL_TOKEN_H_INCLUDED_ */
