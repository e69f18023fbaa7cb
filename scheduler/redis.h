/*
 * Redis through hiredis's blocking API: one connection, the scheduler's Lua
 * scripts loaded once (SCRIPT LOAD) and called by their SHA, reloaded when
 * the server has forgotten them (a restart).
 */
#ifndef DK_REDIS_H
#define DK_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "status.h"

typedef enum { DK_LUA_RECONCILE, DK_LUA_EPOCH, DK_LUA_COUNT } dk_lua_t;

typedef struct {
    redisContext *ctx;
    char sha[DK_LUA_COUNT][41];
    dk_err_t err;
    int auth_refused; /* the last connect failed on AUTH */
    int refused;      /* writes refused: READONLY or NOREPLICAS */
    /* the master's master_replid (INFO replication): the history of its
     * data set, which dk:epoch must name for the state to be complete */
    char replid[41];
    char address[280]; /* the master's, for the logs */
} dk_redis_t;

/* An argument vector that grows as it is filled; its strings are copies. */
typedef struct {
    char *buf;
    size_t used, cap;
    size_t *off, *len;
    int argc, max;
} dk_argv_t;

/* Connects, then AUTH (as user, or the default user when user is NULL; no
 * AUTH when password is NULL) before anything else, then checks that the
 * server is a master (a replica is never written to) and learns its
 * history, then SCRIPT LOAD. A refused AUTH sets auth_refused; err names
 * the user, never the password. */
int dk_redis_connect(dk_redis_t *r, const char *address, const char *user,
                     const char *password);
/* INFO replication: DK_OK and replid set on a master, else DK_ERR (and the
 * connection closed when the server is a replica). */
int dk_redis_history(dk_redis_t *r);
void dk_redis_close(dk_redis_t *r);

/* A command from a hiredis format; an error reply is a DK_ERR. The reply
 * is the caller's to freeReplyObject (NULL may be passed if unwanted). */
int dk_redis_command(dk_redis_t *r, redisReply **reply, const char *fmt, ...);

/* EVALSHA of a script with nkeys keys first in args. */
int dk_redis_eval(dk_redis_t *r, redisReply **reply, dk_lua_t script, int nkeys,
                  dk_argv_t *args);

void dk_argv_reset(dk_argv_t *a);
int dk_argv_add(dk_argv_t *a, const char *s, size_t len);
int dk_argv_addf(dk_argv_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dk_argv_free(dk_argv_t *a);

#endif
