/*
 * The Redis master of the configuration: redis.address, or the one the
 * Sentinels of redis.sentinel name (asked in turn, each within a timeout).
 */
#ifndef DK_REDIS_SENTINEL_H
#define DK_REDIS_SENTINEL_H

#include "config.h"
#include "redis.h"

/* dk_redis_connect to the master; r->address names it. */
int dk_redis_open(dk_redis_t *r, const dk_config_t *cfg);

#endif
