/*
 * Secrets read from the files a configuration names: the file must be a
 * regular file no other user may read (domain/redis_auth.h's mode rule).
 */
#ifndef DK_CONFIG_SECRET_H
#define DK_CONFIG_SECRET_H

#include <stddef.h>

#include "status.h"

/* Erases and frees *p, then sets it NULL. */
void dk_config_free_secret(char **p);

/* redis.auth_file into *user (when it names one) and *password, or DK_ERR
 * with why it is refused. */
int dk_config_read_redis_auth(const char *path, char **user, char **password,
                              char *why, size_t len);

/* notification.http.token_file into *token (freed first). */
int dk_config_read_token(const char *path, char **token, char *why, size_t len);

#endif
