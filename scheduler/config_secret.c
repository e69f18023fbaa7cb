/*
 * The files of secrets a configuration names (Redis's credentials, the
 * gateway's token): read with it, kept in it, erased when it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_secret.h"
#include "redis_auth.h"

void
dk_config_free_secret(char **p)
{
    if (*p != NULL) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static const char *
dk_conf_keep_auth(const dk_redis_auth_t *auth, char **user, char **password)
{
    if (auth->user != NULL) {
        *user = strndup(auth->user, auth->user_len);
        if (*user == NULL)
            return "cannot be kept: out of memory";
    }
    *password = strndup(auth->password, auth->password_len);
    if (*password == NULL)
        return "cannot be kept: out of memory";
    return NULL;
}

/* Reads the Redis credentials file (domain/redis_auth.h) into *user (if it
 * names one) and *password, or writes why it is refused into why. What was
 * read is erased. */
int
dk_config_read_redis_auth(const char *path, char **user, char **password,
                          char *why, size_t len)
{
    char buf[DK_REDIS_AUTH_MAX + 1];
    const char *refused;
    dk_redis_auth_t auth;
    struct stat st;
    ssize_t n = 0;
    int fd;

    /* not blocked by a FIFO: what is not a regular file is refused */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1 || fstat(fd, &st) == -1) {
        snprintf(why, len, "cannot be read: %s", strerror(errno));
        if (fd != -1)
            close(fd);
        return DK_ERR;
    }
    refused = dk_redis_auth_mode(st.st_mode);
    if (refused == NULL) {
        n = read(fd, buf, sizeof(buf));
        if (n == -1) {
            snprintf(why, len, "cannot be read: %s", strerror(errno));
            close(fd);
            return DK_ERR;
        }
        refused = dk_redis_auth_parse(buf, (size_t)n, &auth);
        if (refused == NULL)
            refused = dk_conf_keep_auth(&auth, user, password);
        explicit_bzero(buf, (size_t)n);
    }
    close(fd);
    if (refused == NULL)
        return DK_OK;
    snprintf(why, len, "%s", refused);
    return DK_ERR;
}

/* The gateway's bearer token: one line of printable characters, from a file
 * with the mode rule of the Redis credentials. What was read is erased. */
int
dk_config_read_token(const char *path, char **token, char *why, size_t len)
{
    char buf[4097];
    const char *refused;
    struct stat st;
    ssize_t n = 0, i;
    int fd;

    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1 || fstat(fd, &st) == -1) {
        snprintf(why, len, "cannot be read: %s", strerror(errno));
        if (fd != -1)
            close(fd);
        return DK_ERR;
    }
    refused = dk_redis_auth_mode(st.st_mode);
    if (refused == NULL && (n = read(fd, buf, sizeof(buf) - 1)) == -1)
        refused = "cannot be read";
    close(fd);
    while (refused == NULL && n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    for (i = 0; refused == NULL && i < n; i++) {
        if ((unsigned char)buf[i] <= ' ' || buf[i] == 0x7f)
            refused = "holds a space or a control character";
    }
    if (refused == NULL && (n == 0 || n == sizeof(buf) - 1))
        refused = "is empty or longer than 4096 bytes";
    if (refused == NULL) {
        dk_config_free_secret(token);
        *token = strndup(buf, (size_t)n);
        if (*token == NULL)
            refused = "cannot be kept: out of memory";
    }
    explicit_bzero(buf, sizeof(buf));
    if (refused == NULL)
        return DK_OK;
    snprintf(why, len, "%s", refused);
    return DK_ERR;
}
