/*
 * Sentinel: each Sentinel of redis.sentinel.addresses is asked in turn
 * (SENTINEL get-master-addr-by-name, 1 s to connect and to answer) until one
 * names the master; dk_redis_connect then refuses it unless it says it is
 * a master. A named master that refuses the connection, does not answer or
 * is no master sends the question to the next Sentinel (the one asked may
 * be stale, cut off from the others). A connection lost or a READONLY or
 * NOREPLICAS answer closes the connection (redis.c), so the next connect
 * asks again, the next Sentinel first after a refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_address.h"
#include "redis_sentinel.h"

/* Asks the Sentinel at address for the master, into master ("host:port"). */
static int
dk_sentinel_ask(const dk_config_t *cfg, const char *address, char *master,
                size_t size, dk_err_t *err)
{
    struct timeval timeout = {1, 0};
    char host[64];
    redisContext *c = NULL;
    redisReply *reply;
    int rc = DK_ERR, port;

    /* config.c checked it: "IP:port", or "[IPv6]:port" */
    if (dk_address_split(address, host, sizeof(host), &port) != DK_OK) {
        dk_err_set(err, "sentinel %s: not IP:port", address);
        goto done;
    }
    c = redisConnectWithTimeout(host, port, timeout);
    if (c == NULL || c->err) {
        dk_err_set(err, "sentinel %s: %s", address,
                   c ? c->errstr : "out of memory");
        goto done;
    }
    redisSetTimeout(c, timeout);
    if (cfg->sentinel_password != NULL) {
        reply = cfg->sentinel_user
                    ? redisCommand(c, "AUTH %s %s", cfg->sentinel_user,
                                   cfg->sentinel_password)
                    : redisCommand(c, "AUTH %s", cfg->sentinel_password);
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            dk_err_set(err, "sentinel %s: authentication as '%s' failed",
                       address,
                       cfg->sentinel_user ? cfg->sentinel_user : "default");
            freeReplyObject(reply);
            goto done;
        }
        freeReplyObject(reply);
    }
    reply = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
                         cfg->redis_master_name);
    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY &&
        reply->elements == 2 && reply->element[0]->type == REDIS_REPLY_STRING &&
        reply->element[1]->type == REDIS_REPLY_STRING) {
        snprintf(master, size, "%s:%s", reply->element[0]->str,
                 reply->element[1]->str);
        rc = DK_OK;
    } else {
        dk_err_set(err, "sentinel %s does not name the master '%s': %s",
                   address, cfg->redis_master_name,
                   reply == NULL                      ? c->errstr
                   : reply->type == REDIS_REPLY_ERROR ? reply->str
                                                      : "unknown to it");
    }
    freeReplyObject(reply);
done:
    if (c != NULL)
        redisFree(c);
    return rc;
}

int
dk_redis_open(dk_redis_t *r, const dk_config_t *cfg)
{
    /* the Sentinel that named a usable master last is asked first */
    static int next;
    char master[300];
    dk_err_t err;
    int i, auth_refused = 0;

    if (cfg->redis_sentinels == NULL)
        return dk_redis_connect(r, cfg->redis_address, cfg->redis_user,
                                cfg->redis_password);
    /* the master it named refused writes: it may be a stale one */
    if (r->refused)
        next = (next + 1) % cfg->redis_nsentinels;
    memset(&err, 0, sizeof(err));
    for (i = 0; i < cfg->redis_nsentinels; i++) {
        int s = (next + i) % cfg->redis_nsentinels;

        if (dk_sentinel_ask(cfg, cfg->redis_sentinels[s], master,
                            sizeof(master), &err) != DK_OK)
            continue;
        if (dk_redis_connect(r, master, cfg->redis_user, cfg->redis_password) ==
            DK_OK) {
            next = s;
            return DK_OK;
        }
        dk_err_set(&err, "sentinel %s named %s: %s", cfg->redis_sentinels[s],
                   master, r->err.str);
        auth_refused |= r->auth_refused;
        dk_redis_close(r);
        /* a later connect begins with the next one */
        next = (s + 1) % cfg->redis_nsentinels;
    }
    memset(r, 0, sizeof(*r));
    /* a master that refused our password is said as such (main.c) */
    r->auth_refused = auth_refused;
    return dk_err_set(&r->err, "redis: no Sentinel named the master: %s",
                      err.str);
}
