
/*
 * A store's connection and an op's wait: what the Redis and the PostgreSQL
 * clients have in common, written once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_dukcapil_driver.h"


static void ngx_http_dukcapil_peer_timer(ngx_event_t *ev);
static void ngx_http_dukcapil_op_timer(ngx_event_t *ev);


void
ngx_http_dukcapil_peer_init(ngx_http_dukcapil_peer_t *peer, ngx_log_t *log)
{
    peer->log = log;
    peer->backoff = NGX_HTTP_DUKCAPIL_BACKOFF_MIN;
    peer->state = NGX_HTTP_DUKCAPIL_PEER_DOWN;

    peer->timer.handler = ngx_http_dukcapil_peer_timer;
    peer->timer.data = peer;
    peer->timer.log = log;
    peer->timer.cancelable = 1;
}


/* a connection is on its way: it has connect_timeout to come up */

void
ngx_http_dukcapil_peer_connecting(ngx_http_dukcapil_peer_t *peer)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, peer->log, 0,
                   "dukcapil %s: connecting", peer->name);

    peer->state = NGX_HTTP_DUKCAPIL_PEER_CONNECTING;

    if (peer->timer.timer_set) {
        ngx_del_timer(&peer->timer);
    }

    ngx_add_timer(&peer->timer, peer->connect_timeout);
}


/*
 * The library's socket, watched by nginx.  The library may move to
 * another socket while it tries hosts or falls back from SSL, often on the
 * same descriptor number, which the kernel dropped from the event set when
 * it closed the old one: a socket is known by its inode.
 */
ngx_int_t
ngx_http_dukcapil_peer_attach(ngx_http_dukcapil_peer_t *peer,
    ngx_socket_t fd)
{
    struct stat        st;
    ngx_connection_t  *c;

    if (fstat(fd, &st) == -1) {
        ngx_log_error(NGX_LOG_ERR, peer->log, ngx_errno,
                      "dukcapil: %s socket: fstat() failed", peer->name);
        return NGX_ERROR;
    }

    c = peer->connection;

    if (c && c->fd == fd && peer->inode == st.st_ino) {
        return NGX_OK;
    }

    if (c) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, peer->log, 0,
                       "dukcapil %s: a new socket", peer->name);

        ngx_http_dukcapil_peer_detach(peer);
    }

    peer->inode = st.st_ino;

    c = ngx_get_connection(fd, peer->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = peer;
    c->read->handler = peer->read;
    c->write->handler = peer->write;
    c->read->log = peer->log;
    c->write->log = peer->log;

    peer->connection = c;

    return NGX_OK;
}


/* level-triggered interest in exactly what the library waits for */

ngx_int_t
ngx_http_dukcapil_peer_interest(ngx_http_dukcapil_peer_t *peer,
    ngx_uint_t read, ngx_uint_t write)
{
    ngx_connection_t  *c;

    c = peer->connection;

    if (read && !c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (!read && c->read->active) {
        if (ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (write && !c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (!write && c->write->active) {
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The connection takes commands before the server has accepted it: they
 * queue behind its handshake (Redis's AUTH).  Its connect timeout runs on,
 * and only peer_connected resets the back-off, so that a server that
 * refuses every connection is asked ever more slowly.
 */
void
ngx_http_dukcapil_peer_usable(ngx_http_dukcapil_peer_t *peer)
{
    peer->state = NGX_HTTP_DUKCAPIL_PEER_UP;
}


void
ngx_http_dukcapil_peer_connected(ngx_http_dukcapil_peer_t *peer)
{
    ngx_log_error(NGX_LOG_INFO, peer->log, 0, "dukcapil: %s connected",
                  peer->name);

    peer->state = NGX_HTTP_DUKCAPIL_PEER_UP;
    peer->backoff = NGX_HTTP_DUKCAPIL_BACKOFF_MIN;

    if (peer->timer.timer_set) {
        ngx_del_timer(&peer->timer);
    }
}


/* nginx stops watching the socket; the library closes it */

void
ngx_http_dukcapil_peer_detach(ngx_http_dukcapil_peer_t *peer)
{
    ngx_connection_t  *c;

    c = peer->connection;

    if (c == NULL) {
        return;
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);

    peer->connection = NULL;
}


/*
 * The connection is gone.  The next one is tried after the back-off, which
 * grows with each failure; or at once (backoff 0) when the server is
 * probably fine and only this connection was lost.
 */
void
ngx_http_dukcapil_peer_down(ngx_http_dukcapil_peer_t *peer,
    ngx_uint_t backoff)
{
    peer->state = NGX_HTTP_DUKCAPIL_PEER_DOWN;

    if (peer->timer.timer_set) {
        ngx_del_timer(&peer->timer);
    }

    if (peer->exiting || ngx_exiting) {
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, peer->log, 0,
                   "dukcapil %s: reconnect in %Mms", peer->name,
                   backoff ? peer->backoff : 1);

    if (backoff == 0) {
        ngx_add_timer(&peer->timer, 1);
        return;
    }

    ngx_add_timer(&peer->timer, peer->backoff);

    peer->backoff = ngx_min(peer->backoff * 2, NGX_HTTP_DUKCAPIL_BACKOFF_MAX);
}


/* the worker is leaving: no connection is started again */

void
ngx_http_dukcapil_peer_exit(ngx_http_dukcapil_peer_t *peer)
{
    peer->exiting = 1;

    if (peer->timer.timer_set) {
        ngx_del_timer(&peer->timer);
    }
}


static void
ngx_http_dukcapil_peer_timer(ngx_event_t *ev)
{
    ngx_http_dukcapil_peer_t  *peer;

    peer = ev->data;

    if (peer->state == NGX_HTTP_DUKCAPIL_PEER_DOWN) {
        if (!ngx_exiting && !peer->exiting) {
            peer->connect(peer);
        }

        return;
    }

    ngx_log_error(NGX_LOG_ERR, peer->log, NGX_ETIMEDOUT,
                  "dukcapil: %s connect timed out", peer->name);

    peer->abort(peer);
}


void
ngx_http_dukcapil_op_init(ngx_http_dukcapil_op_t *op,
    ngx_http_dukcapil_op_pt expire, ngx_http_dukcapil_op_pt free)
{
    op->expire = expire;
    op->free = free;

    op->timer.handler = ngx_http_dukcapil_op_timer;
    op->timer.data = op;
    op->timer.log = ngx_cycle->log;
}


void
ngx_http_dukcapil_op_wait(ngx_http_dukcapil_op_t *op, ngx_msec_t timeout)
{
    ngx_add_timer(&op->timer, timeout);
}


/*
 * The owner no longer waits.  The op is freed now if the library owes it
 * nothing, else when the last answer comes, unread: a late answer never
 * touches freed memory.
 */
void
ngx_http_dukcapil_op_cancel(ngx_http_dukcapil_op_t *op)
{
    op->finished = 1;

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (op->outstanding == 0) {
        op->free(op);
    }
}


/* one answer came: NGX_OK when its owner still waits for it */

ngx_int_t
ngx_http_dukcapil_op_answered(ngx_http_dukcapil_op_t *op)
{
    op->outstanding--;

    if (!op->finished) {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "dukcapil: late answer dropped, %ui to come",
                   op->outstanding);

    if (op->outstanding == 0) {
        op->free(op);
    }

    return NGX_DECLINED;
}


static void
ngx_http_dukcapil_op_timer(ngx_event_t *ev)
{
    ngx_http_dukcapil_op_t  *op;

    op = ev->data;

    op->expire(op);
}
