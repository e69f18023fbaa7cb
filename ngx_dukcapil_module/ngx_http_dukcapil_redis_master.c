
/*
 * The master of the worker's Redis connection.  With dukcapil_redis_sentinel
 * the connection first goes to a Sentinel, asks it for the master's address
 * (SENTINEL get-master-addr-by-name) and ends; the next one goes to that
 * address.  A Sentinel that does not answer within
 * dukcapil_redis_connect_timeout, or does not know the master, hands over
 * to the next one at once; when every one failed, the round starts again
 * after the peer's back-off.  Every connection to a master, named or
 * configured, takes commands pipelined behind INFO replication, and is
 * dropped unless its answer says "role:master": a replica refuses the
 * writes meanwhile (replica-read-only), book.lua waits for the answer.
 * Its master_replid names the history of its data set, which a failover
 * changes (a promoted replica starts one of its own, and may lack the last
 * writes of the old one): book.lua admits no one while dk:epoch holds
 * another history than this one.  INFO replication is asked again every
 * second on a live connection, so that a change of role or history is
 * seen without a booking.  A connection lost, a -READONLY answer (a master
 * demoted under the connection) or a -NOREPLICAS one (a master cut off
 * from its replicas: min-replicas-to-write, conf/redis.conf) sends the
 * worker back to the Sentinels; when the master a Sentinel named turned
 * out unusable, the next Sentinel is asked, as that one may be stale.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_redis_master.h"


#define NGX_HTTP_DUKCAPIL_REPLID_LEN  40
#define NGX_HTTP_DUKCAPIL_ROLE_CHECK  1000     /* ms: INFO replication */


typedef struct {
    ngx_http_dukcapil_main_conf_t  *dmcf;
    ngx_http_dukcapil_peer_t       *peer;
    ngx_http_dukcapil_redis_up_pt   up;
    ngx_http_dukcapil_redis_up_pt   flush;

    ngx_uint_t                      next;     /* the Sentinel asked next */
    ngx_uint_t                      failed;   /* Sentinels, in this round */

    /* the master a Sentinel named; empty: ask one */
    ngx_str_t                       host;
    in_port_t                       port;
    u_char                          host_buf[NGX_SOCKADDR_STRLEN + 1];

    /* "ip:port" of the connection, for the logs */
    ngx_str_t                       name;
    u_char                          name_buf[NGX_SOCKADDR_STRLEN + 8];

    ngx_str_t                       history;  /* master_replid */
    u_char                          replid[NGX_HTTP_DUKCAPIL_REPLID_LEN];

    redisAsyncContext              *ac;        /* once asked for the role */

    ngx_event_t                     check;     /* the role asked again */

    unsigned                        asking:1;  /* a Sentinel's connection */
    unsigned                        found:1;   /* it named the master */
    unsigned                        refreshing:1;
    unsigned                        usable:1;  /* the master took commands */
} ngx_http_dukcapil_master_t;


static void ngx_http_dukcapil_master_named(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_dukcapil_master_role(redisAsyncContext *ac, void *reply,
    void *privdata);
static ngx_int_t ngx_http_dukcapil_master_info(char *info, const char *field,
    ngx_str_t *value);
static void ngx_http_dukcapil_master_check(ngx_event_t *ev);


static ngx_http_dukcapil_master_t  ngx_http_dukcapil_master;


void
ngx_http_dukcapil_master_init(ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_http_dukcapil_peer_t *peer, ngx_http_dukcapil_redis_up_pt up,
    ngx_http_dukcapil_redis_up_pt flush)
{
    ngx_http_dukcapil_master_t  *m;

    m = &ngx_http_dukcapil_master;

    ngx_memzero(m, sizeof(ngx_http_dukcapil_master_t));

    m->dmcf = dmcf;
    m->peer = peer;
    m->up = up;
    m->flush = flush;
    m->host.data = m->host_buf;
    m->name.data = m->name_buf;
    m->history.data = m->replid;

    m->check.handler = ngx_http_dukcapil_master_check;
    m->check.log = peer->log;
    m->check.data = m;
    m->check.cancelable = 1;

    /* each worker starts at a Sentinel of its own */
    if (dmcf->redis_sentinels) {
        m->next = ngx_pid % dmcf->redis_sentinels->nelts;
    }
}


/* the connection's next server: a Sentinel, or the master */

redisAsyncContext *
ngx_http_dukcapil_master_connect(void)
{
    ngx_http_dukcapil_master_t    *m;
    ngx_http_dukcapil_sentinel_t  *s;

    m = &ngx_http_dukcapil_master;

    m->history.len = 0;

    if (m->dmcf->redis_sentinels == NULL) {
        m->name = m->dmcf->redis_host;

        if (m->dmcf->redis_port == 0) {
            return redisAsyncConnectUnix((char *) m->dmcf->redis_host.data);
        }

        return redisAsyncConnect((char *) m->dmcf->redis_host.data,
                                 m->dmcf->redis_port);
    }

    if (m->host.len == 0) {
        s = m->dmcf->redis_sentinels->elts;
        s = &s[m->next];

        m->asking = 1;
        m->name.len = ngx_sprintf(m->name_buf, "sentinel %V:%d", &s->host,
                                  (int) s->port)
                      - m->name_buf;

        return redisAsyncConnect((char *) s->host.data, s->port);
    }

    m->name.len = ngx_sprintf(m->name_buf, "%V:%d", &m->host, (int) m->port)
                  - m->name_buf;

    return redisAsyncConnect((char *) m->host.data, m->port);
}


ngx_str_t *
ngx_http_dukcapil_master_name(void)
{
    return &ngx_http_dukcapil_master.name;
}


/*
 * The connection is open: AUTH, then the one question for this server,
 * pipelined behind it.  The peer stays "connecting", its timeout running,
 * until the answer came.
 */
void
ngx_http_dukcapil_master_handshake(redisAsyncContext *ac)
{
    int                              rc;
    ngx_str_t                       *name;
    ngx_http_dukcapil_master_t      *m;
    ngx_http_dukcapil_main_conf_t   *dmcf;

    m = &ngx_http_dukcapil_master;
    dmcf = m->dmcf;

    /* hiredis runs this in its connect callback, where the context may not
     * be freed: a failure here is left to the connect timeout */

    if (m->asking) {
        if (ngx_http_dukcapil_redis_authenticate(ac, &dmcf->sentinel_auth_file)
            != NGX_OK)
        {
            return;
        }

        name = &dmcf->redis_master_name;

        rc = redisAsyncCommand(ac, ngx_http_dukcapil_master_named, NULL,
                               "SENTINEL get-master-addr-by-name %b",
                               name->data, name->len);

    } else {
        if (ngx_http_dukcapil_redis_authenticate(ac, &dmcf->redis_auth_file)
            != NGX_OK)
        {
            return;
        }

        rc = redisAsyncCommand(ac, ngx_http_dukcapil_master_role, NULL,
                               "INFO replication");
    }

    if (rc != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, m->peer->log, 0,
                      "dukcapil: redis handshake with \"%V\" not sent: %s",
                      &m->name, ac->errstr[0] ? ac->errstr : "out of memory");
        return;
    }

    if (m->asking) {
        return;
    }

    /*
     * The requests' commands leave pipelined behind INFO, as a new worker
     * after a reload must fail none: until its answer, a replica would
     * refuse their writes (replica-read-only, conf/redis.conf), and
     * book.lua's calls, which need the history, wait in their queue
     * (ngx_http_dukcapil_master_unknown).  The connect timeout runs on.
     */
    m->ac = ac;

    ngx_http_dukcapil_peer_usable(m->peer);

    if (m->up) {
        m->up();
    }
}


/* a Sentinel's answer: the master's IP and port, or nil */

static void
ngx_http_dukcapil_master_named(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                  *rr = reply;
    ngx_int_t                    port;
    const char                  *why;
    redisReply                 **e;
    ngx_http_dukcapil_master_t  *m;
#if (NGX_HAVE_INET6)
    u_char                       inet6[16];
#endif

    if (rr == NULL) {
        return;
    }

    m = &ngx_http_dukcapil_master;

    e = rr->element;
    port = NGX_ERROR;

    why = rr->type == REDIS_REPLY_ERROR ? rr->str
          : rr->type == REDIS_REPLY_NIL ? "unknown to it"
          : "an answer of another shape";

    if (rr->type == REDIS_REPLY_ARRAY && rr->elements == 2
        && e[0]->type == REDIS_REPLY_STRING
        && e[1]->type == REDIS_REPLY_STRING
        && e[0]->len > 0 && e[0]->len < sizeof(m->host_buf))
    {
        port = ngx_atoi((u_char *) e[1]->str, e[1]->len);

        /* a name would need DNS, which blocks: sentinel.conf's
         * "resolve-hostnames no" keeps the answers addresses */
        if (ngx_inet_addr((u_char *) e[0]->str, e[0]->len) == INADDR_NONE
#if (NGX_HAVE_INET6)
            && ngx_inet6_addr((u_char *) e[0]->str, e[0]->len, inet6)
               != NGX_OK
#endif
            )
        {
            why = "a host name, not an address";
            port = NGX_ERROR;
        }
    }

    if (port < 1 || port > 65535) {
        ngx_log_error(NGX_LOG_ERR, m->peer->log, 0,
                      "dukcapil: redis %V does not name the master \"%V\": "
                      "%s", &m->name, &m->dmcf->redis_master_name, why);

    } else {
        ngx_memcpy(m->host_buf, e[0]->str, e[0]->len);
        m->host_buf[e[0]->len] = '\0';
        m->host.len = e[0]->len;
        m->port = (in_port_t) port;
        m->found = 1;

        ngx_log_error(NGX_LOG_INFO, m->peer->log, 0,
                      "dukcapil: redis %V names %V:%i the master \"%V\"",
                      &m->name, &m->host, port, &m->dmcf->redis_master_name);
    }

    /* in a reply callback hiredis frees the context once it returns */
    redisAsyncFree(ac);
}


/* the server's INFO replication: a master takes commands, a replica never */

static void
ngx_http_dukcapil_master_role(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                  *rr = reply;
    ngx_str_t                    role, replid;
    ngx_http_dukcapil_master_t  *m;

    if (rr == NULL) {
        return;
    }

    m = &ngx_http_dukcapil_master;

    if (privdata) {
        m->refreshing = 0;
    }

    if (rr->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_ERR, m->peer->log, 0,
                      "dukcapil: redis \"%V\" refused INFO replication: %s",
                      &m->name, rr->type == REDIS_REPLY_ERROR ? rr->str
                                                             : "no text");
        m->usable = 0;
        redisAsyncFree(ac);
        return;
    }

    if (ngx_http_dukcapil_master_info(rr->str, "role", &role) != NGX_OK
        || role.len != 6 || ngx_strncmp(role.data, "master", 6) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, m->peer->log, 0,
                      "dukcapil: redis \"%V\" is not a master: not used",
                      &m->name);
        m->usable = 0;
        redisAsyncFree(ac);
        return;
    }

    if (ngx_http_dukcapil_master_info(rr->str, "master_replid", &replid)
        != NGX_OK
        || replid.len != NGX_HTTP_DUKCAPIL_REPLID_LEN)
    {
        ngx_log_error(NGX_LOG_ERR, m->peer->log, 0,
                      "dukcapil: redis \"%V\" names no master_replid",
                      &m->name);
        m->usable = 0;
        redisAsyncFree(ac);
        return;
    }

    if (privdata && ngx_strncmp(m->replid, replid.data, replid.len) == 0) {
        return;
    }

    ngx_memcpy(m->replid, replid.data, NGX_HTTP_DUKCAPIL_REPLID_LEN);
    m->history.len = NGX_HTTP_DUKCAPIL_REPLID_LEN;

    ngx_log_error(NGX_LOG_INFO, m->peer->log, 0,
                  "dukcapil: redis master \"%V\", history %V", &m->name,
                  &m->history);

    if (privdata) {                 /* a refresh */
        return;
    }

    m->usable = 1;

    if (!m->check.timer_set) {
        ngx_add_timer(&m->check, NGX_HTTP_DUKCAPIL_ROLE_CHECK);
    }

    ngx_http_dukcapil_peer_connected(m->peer);

    /* book.lua's calls that waited for the history leave */
    m->flush();
}


/*
 * Every second, the role and history of the live connection's server are
 * asked again: a master demoted, or one whose history changed (its first
 * replica attached, REPLICAOF NO ONE), is followed without waiting for a
 * booking to find out.
 */
static void
ngx_http_dukcapil_master_check(ngx_event_t *ev)
{
    ngx_http_dukcapil_master_t  *m = ev->data;

    if (m->ac == NULL || m->peer->exiting || ngx_exiting || ngx_quit) {
        return;
    }

    ngx_http_dukcapil_master_refresh();

    ngx_add_timer(&m->check, NGX_HTTP_DUKCAPIL_ROLE_CHECK);
}


/* "field:value\r\n" of an INFO text */

static ngx_int_t
ngx_http_dukcapil_master_info(char *info, const char *field, ngx_str_t *value)
{
    u_char  *p, *last;
    size_t   len;

    len = ngx_strlen(field);

    for (p = (u_char *) info; *p; p = last + 1) {
        last = (u_char *) ngx_strchr(p, '\n');

        if (ngx_strncmp(p, field, len) == 0 && p[len] == ':') {
            value->data = p + len + 1;
            value->len = (last ? last : p + ngx_strlen(p)) - value->data;

            if (value->len && value->data[value->len - 1] == '\r') {
                value->len--;
            }

            return NGX_OK;
        }

        if (last == NULL) {
            break;
        }
    }

    return NGX_ERROR;
}


/*
 * The connection ended (hiredis's cleanup).  Returns whether the next one
 * waits for the back-off: not when a Sentinel just named the master, nor
 * when another Sentinel is left to ask in this round.
 */
ngx_uint_t
ngx_http_dukcapil_master_closed(void)
{
    ngx_uint_t                   n;
    ngx_http_dukcapil_master_t  *m;

    m = &ngx_http_dukcapil_master;

    m->history.len = 0;
    m->ac = NULL;
    m->refreshing = 0;

    if (m->check.timer_set) {
        ngx_del_timer(&m->check);
    }

    /* book.lua's calls that waited for the history fail at once */
    if (!m->peer->exiting) {
        m->flush();
    }

    if (m->dmcf->redis_sentinels == NULL) {
        return 1;
    }

    if (!m->asking) {
        /* where the master is now is asked again; of the next Sentinel
         * when the one asked named a master that refused the connection,
         * did not answer, was no master or refused writes: it may be a
         * stale one, cut off from the others */
        if (!m->usable) {
            m->next = (m->next + 1) % m->dmcf->redis_sentinels->nelts;
        }

        m->usable = 0;
        m->host.len = 0;
        return 1;
    }

    m->asking = 0;

    if (m->found) {
        m->found = 0;
        m->failed = 0;
        return 0;
    }

    n = m->dmcf->redis_sentinels->nelts;
    m->next = (m->next + 1) % n;

    if (++m->failed < n) {
        return 0;
    }

    m->failed = 0;

    return 1;
}


/*
 * An error answer, to a command or to a script's write.  -READONLY: the
 * master was demoted under the connection.  -NOREPLICAS: it has fewer
 * replicas in touch than min-replicas-to-write, as a master cut off from
 * the others is, while a replica may be promoted in its place; its writes
 * are refused, and the Sentinels are asked again.  Called from a reply
 * callback.
 */
void
ngx_http_dukcapil_master_refused(const char *err, size_t len)
{
    const char                  *what;
    ngx_http_dukcapil_master_t  *m;

    m = &ngx_http_dukcapil_master;

    if (len >= 8 && ngx_strncmp(err, "READONLY", 8) == 0) {
        what = "is a replica now (READONLY)";

    } else if (len >= 10 && ngx_strncmp(err, "NOREPLICAS", 10) == 0) {
        what = "has too few replicas to write (NOREPLICAS)";

    } else {
        return;
    }

    if (m->history.len == 0 || m->ac == NULL) {   /* on its way out */
        return;
    }

    ngx_log_error(NGX_LOG_WARN, m->peer->log, 0,
                  "dukcapil: redis \"%V\" %s: looking for the master again",
                  &m->name, what);

    m->history.len = 0;
    m->usable = 0;

    /* in a reply callback hiredis frees the context once it returns */
    redisAsyncFree(m->ac);
}


/*
 * book.lua found dk:epoch of another history than the connection's.  The
 * master's history may have changed under the connection (a first replica
 * makes a master start a new one, REPLICAOF NO ONE too) and the scheduler
 * rebuilt the state on the new one: the role is asked again, one question
 * at a time, so that the connection follows.
 */
void
ngx_http_dukcapil_master_refresh(void)
{
    ngx_http_dukcapil_master_t  *m;

    m = &ngx_http_dukcapil_master;

    if (m->ac == NULL || m->refreshing || m->history.len == 0) {
        return;
    }

    if (redisAsyncCommand(m->ac, ngx_http_dukcapil_master_role, m,
                          "INFO replication")
        == REDIS_OK)
    {
        m->refreshing = 1;
    }
}


/* the connection takes commands, but INFO replication is not answered yet */

ngx_uint_t
ngx_http_dukcapil_master_unknown(void)
{
    ngx_http_dukcapil_master_t  *m;

    m = &ngx_http_dukcapil_master;

    return m->ac != NULL && m->history.len == 0 && !m->peer->exiting
           && m->peer->state == NGX_HTTP_DUKCAPIL_PEER_UP;
}


/* what book.lua checks dk:epoch against; empty while not connected */

ngx_str_t *
ngx_http_dukcapil_master_history(void)
{
    return &ngx_http_dukcapil_master.history;
}
