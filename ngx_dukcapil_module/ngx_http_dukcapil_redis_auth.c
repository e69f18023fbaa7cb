
/*
 * AUTH: the file read once, at configuration; the command sent first on
 * each connection.  The file's format and mode are domain/redis_auth.c's,
 * which the scheduler applies too.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_redis_auth.h"
#include "redis_auth.h"


static void ngx_http_dukcapil_redis_auth_forget(void *data);
static void ngx_http_dukcapil_redis_auth_answer(redisAsyncContext *ac,
    void *reply, void *privdata);


/*
 * dukcapil_redis_auth FILE (Redis's) and dukcapil_redis_sentinel_auth FILE
 * (the Sentinels'): "password" or "user password" on one line, in a file
 * no other user may open.  The master reads it as root, so the workers
 * need no access to it.  The directive's offset is that of the file's
 * name, followed by the user and the password.
 */
char *
ngx_http_dukcapil_redis_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char              *buf;
    ssize_t              n;
    ngx_str_t           *value, file, *creds;
    const char          *err;
    dk_redis_auth_t      auth;
    ngx_pool_cleanup_t  *cln;

    creds = (ngx_str_t *) ((u_char *) conf + cmd->offset);

    if (creds[0].data) {
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

    if (ngx_http_dukcapil_credentials_read(cf, (char *) cmd->name.data, &file,
                                           buf, DK_REDIS_AUTH_MAX, &n)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    err = dk_redis_auth_parse((char *) buf, n, &auth);

    if (err == NULL) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        creds[1].data = ngx_pnalloc(cf->pool, auth.user_len);
        creds[2].data = ngx_pnalloc(cf->pool, auth.password_len);

        if (cln == NULL || creds[1].data == NULL
            || creds[2].data == NULL)
        {
            ngx_explicit_memzero(buf, n);
            return NGX_CONF_ERROR;
        }

        creds[1].len = auth.user_len;
        ngx_memcpy(creds[1].data, auth.user, auth.user_len);
        creds[2].len = auth.password_len;
        ngx_memcpy(creds[2].data, auth.password,
                   auth.password_len);

        /* the old configuration's copy goes with it, erased */
        cln->handler = ngx_http_dukcapil_redis_auth_forget;
        cln->data = &creds[2];
    }

    ngx_explicit_memzero(buf, n);

    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" file \"%V\" %s", &cmd->name, &file,
                           err);
        return NGX_CONF_ERROR;
    }

    creds[0] = file;

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
 * The connection's first command: AUTH with creds (the file's name, the
 * user, the password), what the connection is asked for pipelined behind
 * it.  Redis runs them in order, so none runs before AUTH, and none runs
 * at all if AUTH is refused: an unauthenticated connection may run nothing
 * when the default user is off (conf/redis-users.acl).
 */
ngx_int_t
ngx_http_dukcapil_redis_authenticate(redisAsyncContext *ac, ngx_str_t *creds)
{
    int          argc;
    size_t       argvlen[3];
    const char  *argv[3];

    if (creds[2].len == 0) {
        return NGX_OK;
    }

    argc = 0;
    argv[argc] = "AUTH";
    argvlen[argc++] = 4;

    if (creds[1].len) {
        argv[argc] = (const char *) creds[1].data;
        argvlen[argc++] = creds[1].len;
    }

    argv[argc] = (const char *) creds[2].data;
    argvlen[argc++] = creds[2].len;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "dukcapil redis: AUTH as \"%V\"", &creds[1]);

    if (redisAsyncCommandArgv(ac, ngx_http_dukcapil_redis_auth_answer, creds,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: redis AUTH not sent: %s",
                      ac->errstr[0] ? ac->errstr : "out of memory");
        return NGX_ERROR;
    }

    return NGX_OK;
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
    redisReply  *rr = reply;
    ngx_str_t   *creds = privdata;
    ngx_str_t    user;

    if (rr == NULL) {               /* the connection went first */
        return;
    }

    if (rr->type == REDIS_REPLY_STATUS && ngx_strcmp(rr->str, "OK") == 0) {
        return;
    }

    user = creds[1];

    if (user.len == 0) {
        ngx_str_set(&user, "default");
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "dukcapil: redis authentication as \"%V\" failed "
                  "(credentials of \"%V\"): %s", &user, &creds[0],
                  rr->str ? rr->str : "no error text");

    /* in a reply callback hiredis frees the context once it returns */
    redisAsyncFree(ac);
}
