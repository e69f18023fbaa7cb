/*
 * Secrets read from the files a configuration names: the file must be a
 * regular file no other user may read (domain/redis_auth.h's mode rule).
 */
#ifndef DK_CONFIG_SECRET_H
#define DK_CONFIG_SECRET_H

#include <stddef.h>

#include "config.h"

/* Erases and frees *p, then sets it NULL. */
void dk_config_free_secret(char **p);

/* redis.auth_file into cfg->redis_user and redis_password, or DK_ERR with
 * why it is refused. */
int dk_config_read_redis_auth(dk_config_t *cfg, const char *path, char *why,
                              size_t len);

/* notification.http.token_file into cfg->notify.token. */
int dk_config_read_token(dk_config_t *cfg, const char *path, char *why,
                         size_t len);

#endif
