
/*
 * AUTH: the file read once, at configuration; the command sent first on
 * each connection.  The file's format and mode are domain/redis_auth.c's,
 * which the scheduler applies too.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_redis_auth.h"
#include "redis_auth.h"


/* the connection being authenticated: one per worker */
typedef struct {
    ngx_http_dukcapil_peer_t        *peer;
    ngx_http_dukcapil_main_conf_t   *dmcf;
} ngx_http_dukcapil_redis_auth_t;


static void ngx_http_dukcapil_redis_auth_forget(void *data);
static void ngx_http_dukcapil_redis_auth_answer(redisAsyncContext *ac,
    void *reply, void *privdata);


static ngx_http_dukcapil_redis_auth_t  ngx_http_dukcapil_redis_auth_ctx;


/*
 * dukcapil_redis_auth FILE: "password" or "user password" on one line, in
 * a file no other user may open.  The master reads it as root, so the
 * workers need no access to it.
 */
char *
ngx_http_dukcapil_redis_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dukcapil_main_conf_t *dmcf = conf;

    u_char              *buf;
    ssize_t              n;
    ngx_str_t           *value, file;
    const char          *err;
    dk_redis_auth_t      auth;
    ngx_pool_cleanup_t  *cln;

    if (dmcf->redis_auth_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, DK_REDIS_AUTH_MAX + 1);
    if (buf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_dukcapil_credentials_read(cf, "dukcapil_redis_auth", &file,
                                           buf, DK_REDIS_AUTH_MAX, &n)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    err = dk_redis_auth_parse((char *) buf, n, &auth);

    if (err == NULL) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        dmcf->redis_user.data = ngx_pnalloc(cf->pool, auth.user_len);
        dmcf->redis_password.data = ngx_pnalloc(cf->pool, auth.password_len);

        if (cln == NULL || dmcf->redis_user.data == NULL
            || dmcf->redis_password.data == NULL)
        {
            ngx_explicit_memzero(buf, n);
            return NGX_CONF_ERROR;
        }

        dmcf->redis_user.len = auth.user_len;
        ngx_memcpy(dmcf->redis_user.data, auth.user, auth.user_len);
        dmcf->redis_password.len = auth.password_len;
        ngx_memcpy(dmcf->redis_password.data, auth.password,
                   auth.password_len);

        /* the old configuration's copy goes with it, erased */
        cln->handler = ngx_http_dukcapil_redis_auth_forget;
        cln->data = &dmcf->redis_password;
    }

    ngx_explicit_memzero(buf, n);

    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dukcapil_redis_auth\" file \"%V\" %s",
                           &file, err);
        return NGX_CONF_ERROR;
    }

    dmcf->redis_auth_file = file;

    return NGX_CONF_OK;
}


/*
 * A file of credentials (directive's), if its mode keeps it to its owner
 * and group: up to max + 1 bytes into buf, so that a longer one is refused.
 */
ngx_int_t
ngx_http_dukcapil_credentials_read(ngx_conf_t *cf, const char *directive,
    ngx_str_t *file, u_char *buf, size_t max, ssize_t *n)
{
    ngx_fd_t          fd;
    ngx_int_t         rc;
    const char       *err;
    ngx_file_info_t   fi;

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\": " ngx_open_file_n " \"%V\" failed",
                           directive, file);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\": " ngx_fd_info_n " \"%V\" failed",
                           directive, file);
        goto done;
    }

    err = dk_redis_auth_mode(fi.st_mode);
    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" file \"%V\" %s", directive, file,
                           err);
        goto done;
    }

    *n = ngx_read_fd(fd, buf, max + 1);
    if (*n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\": " ngx_read_fd_n " \"%V\" failed",
                           directive, file);
        goto done;
    }

    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", file);
    }

    return rc;
}


static void
ngx_http_dukcapil_redis_auth_forget(void *data)
{
    ngx_str_t  *password = data;

    ngx_explicit_memzero(password->data, password->len);
}


/*
 * The connection's first command: AUTH, with what the connection is asked
 * for pipelined behind it (the scripts' SCRIPT LOAD, the requests'
 * commands).  Redis runs them in order, so none runs before AUTH, and none
 * runs at all if AUTH is refused: an unauthenticated connection may run
 * nothing when the default user is off (conf/redis-users.acl).
 */
void
ngx_http_dukcapil_redis_authenticate(redisAsyncContext *ac,
    ngx_http_dukcapil_peer_t *peer, ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_http_dukcapil_redis_up_pt up)
{
    int                              argc;
    size_t                           argvlen[3];
    const char                      *argv[3];
    ngx_http_dukcapil_redis_auth_t  *ctx;

    if (dmcf->redis_password.len == 0) {
        ngx_http_dukcapil_peer_connected(peer);
        goto up;
    }

    ctx = &ngx_http_dukcapil_redis_auth_ctx;
    ctx->peer = peer;
    ctx->dmcf = dmcf;

    argc = 0;
    argv[argc] = "AUTH";
    argvlen[argc++] = 4;

    if (dmcf->redis_user.len) {
        argv[argc] = (const char *) dmcf->redis_user.data;
        argvlen[argc++] = dmcf->redis_user.len;
    }

    argv[argc] = (const char *) dmcf->redis_password.data;
    argvlen[argc++] = dmcf->redis_password.len;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, peer->log, 0,
                   "dukcapil redis: AUTH as \"%V\"", &dmcf->redis_user);

    /* hiredis runs this in its connect callback, where the context may not
     * be freed: a failure here is left to the connect timeout */
    if (redisAsyncCommandArgv(ac, ngx_http_dukcapil_redis_auth_answer, NULL,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, peer->log, 0,
                      "dukcapil: redis AUTH not sent: %s",
                      ac->errstr[0] ? ac->errstr : "out of memory");
        return;
    }

    /* until Redis answers, the connect timeout runs on */
    ngx_http_dukcapil_peer_usable(peer);

up:

    if (up) {
        up();
    }
}


/*
 * Redis's answer names the user, never the password.  A refusal ends the
 * connection as a failed connect does, with the commands queued behind
 * AUTH: logged, then tried again after the back-off, and meanwhile every
 * request is answered 503 at once.
 */
static void
ngx_http_dukcapil_redis_auth_answer(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                      *rr = reply;
    ngx_str_t                        user;
    ngx_http_dukcapil_redis_auth_t  *ctx;

    if (rr == NULL) {               /* the connection went first */
        return;
    }

    ctx = &ngx_http_dukcapil_redis_auth_ctx;

    if (rr->type == REDIS_REPLY_STATUS && ngx_strcmp(rr->str, "OK") == 0) {
        ngx_http_dukcapil_peer_connected(ctx->peer);
        return;
    }

    user = ctx->dmcf->redis_user;

    if (user.len == 0) {
        ngx_str_set(&user, "default");
    }

    ngx_log_error(NGX_LOG_ERR, ctx->peer->log, 0,
                  "dukcapil: redis authentication as \"%V\" failed "
                  "(credentials of \"%V\"): %s", &user,
                  &ctx->dmcf->redis_auth_file,
                  rr->str ? rr->str : "no error text");

    /* in a reply callback hiredis frees the context once it returns */
    redisAsyncFree(ac);
}
