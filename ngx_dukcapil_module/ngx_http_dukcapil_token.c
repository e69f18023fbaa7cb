
/*
 * The phone_token's secret, and the tokens made and checked with it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_token.h"
#include "ngx_http_dukcapil_redis_auth.h"


static void ngx_http_dukcapil_token_forget(void *data);


/*
 * dukcapil_token_secret FILE: at least 32 bytes (a final newline is not
 * part of it), in a file no other user may open, as dukcapil_redis_auth's.
 * Every nginx that is to accept a token holds the same file.
 */
char *
ngx_http_dukcapil_token_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    u_char              *buf;
    size_t               len;
    ssize_t              n;
    ngx_str_t           *value, file;
    const char          *err;
    ngx_pool_cleanup_t  *cln;

    if (dmcf->token_secret.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, DK_TOKEN_SECRET_MAX + 1);
    if (buf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_dukcapil_credentials_read(cf, "dukcapil_token_secret", &file,
                                           buf, DK_TOKEN_SECRET_MAX, &n)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    err = dk_token_secret((char *) buf, n, &len);

    if (err) {
        ngx_explicit_memzero(buf, n);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_token_secret\" file \"%V\" %s",
                           &file, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    dmcf->token_secret.data = ngx_pnalloc(cf->pool, len);

    if (cln == NULL || dmcf->token_secret.data == NULL) {
        ngx_explicit_memzero(buf, n);
        return NGX_CONF_ERROR;
    }

    dmcf->token_secret.len = len;
    ngx_memcpy(dmcf->token_secret.data, buf, len);
    ngx_explicit_memzero(buf, n);

    /* the old configuration's copy goes with it, erased */
    cln->handler = ngx_http_dukcapil_token_forget;
    cln->data = &dmcf->token_secret;

    return NGX_CONF_OK;
}


static void
ngx_http_dukcapil_token_forget(void *data)
{
    ngx_str_t  *secret = data;

    ngx_explicit_memzero(secret->data, secret->len);
}


/* the token of phone, valid dukcapil_phone_token_ttl from now */

ngx_int_t
ngx_http_dukcapil_token_make(ngx_http_dukcapil_main_conf_t *dmcf,
    const char *phone, char out[DK_TOKEN_LEN + 1], time_t *expiry)
{
    if (dmcf->token_secret.len == 0) {
        return NGX_ERROR;
    }

    *expiry = ngx_time() + dmcf->phone_token_ttl;

    if (dk_token_make(dmcf->token_secret.data, dmcf->token_secret.len, phone,
                      (int64_t) *expiry, out)
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * NGX_OK if the location does not ask for a verified phone, or if token
 * (NULL: absent) is a valid one for phone; NGX_DECLINED otherwise.
 */
ngx_int_t
ngx_http_dukcapil_token_check(ngx_http_request_t *r, ngx_str_t *token,
    const char *phone)
{
    dk_token_result                 rc;
    ngx_http_dukcapil_loc_conf_t   *dlcf;
    ngx_http_dukcapil_main_conf_t  *dmcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_dukcapil_module);

    if (!dlcf->phone_verification) {
        return NGX_OK;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_dukcapil_module);

    if (token == NULL || dmcf->token_secret.len == 0) {
        return NGX_DECLINED;
    }

    rc = dk_token_verify(dmcf->token_secret.data, dmcf->token_secret.len,
                         (char *) token->data, token->len, phone, ngx_time(),
                         NULL);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "dukcapil: phone token checked: %d", (int) rc);

    return (rc == DK_TOKEN_OK) ? NGX_OK : NGX_DECLINED;
}
