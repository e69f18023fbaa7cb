
/*
 * The skeleton both store clients (Redis, PostgreSQL) are built on: a peer,
 * one connection of a worker with its connect timeout and its reconnect
 * back-off; and an op, one request's wait for an answer, with a timer of
 * its own.  A driver fills in a few callbacks, as ngx_event_connect_peer
 * and ngx_http_upstream let a protocol do.
 *
 * The library (hiredis, libpq) owns the socket: nginx only watches it,
 * level-triggered, for what the library waits for, and never closes it.
 */


#ifndef _NGX_HTTP_DUKCAPIL_DRIVER_H_INCLUDED_
#define _NGX_HTTP_DUKCAPIL_DRIVER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>


#define NGX_HTTP_DUKCAPIL_BACKOFF_MIN  100
#define NGX_HTTP_DUKCAPIL_BACKOFF_MAX  2000


typedef struct ngx_http_dukcapil_peer_s  ngx_http_dukcapil_peer_t;
typedef struct ngx_http_dukcapil_op_s    ngx_http_dukcapil_op_t;

typedef void (*ngx_http_dukcapil_peer_pt)(ngx_http_dukcapil_peer_t *peer);
typedef void (*ngx_http_dukcapil_op_pt)(ngx_http_dukcapil_op_t *op);


typedef enum {
    NGX_HTTP_DUKCAPIL_PEER_DOWN = 0,
    NGX_HTTP_DUKCAPIL_PEER_CONNECTING,
    NGX_HTTP_DUKCAPIL_PEER_UP
} ngx_http_dukcapil_peer_state_e;


struct ngx_http_dukcapil_peer_s {
    ngx_connection_t                *connection;
    ino_t                            inode;      /* of the socket watched */

    /* the connect timeout while connecting, the back-off while down */
    ngx_event_t                      timer;
    ngx_msec_t                       backoff;
    ngx_msec_t                       connect_timeout;

    ngx_http_dukcapil_peer_state_e   state;
    const char                      *name;       /* "redis", "postgres" */
    ngx_log_t                       *log;

    /* the driver's: start a connection; give up one that is too slow */
    ngx_http_dukcapil_peer_pt        connect;
    ngx_http_dukcapil_peer_pt        abort;

    /* the socket's events: ev->data is the connection, c->data the peer */
    ngx_event_handler_pt             read;
    ngx_event_handler_pt             write;

    void                            *data;       /* the driver's */

    unsigned                         exiting:1;
};


struct ngx_http_dukcapil_op_s {
    ngx_event_t                      timer;

    /* answers the library still owes the op */
    ngx_uint_t                       outstanding;

    /* the driver's: the timer fired; the op is no longer needed */
    ngx_http_dukcapil_op_pt          expire;
    ngx_http_dukcapil_op_pt          free;

    /* its owner stopped waiting: what comes later is dropped */
    unsigned                         finished:1;
};


void ngx_http_dukcapil_peer_init(ngx_http_dukcapil_peer_t *peer,
    ngx_log_t *log);
void ngx_http_dukcapil_peer_connecting(ngx_http_dukcapil_peer_t *peer);
ngx_int_t ngx_http_dukcapil_peer_attach(ngx_http_dukcapil_peer_t *peer,
    ngx_socket_t fd);
ngx_int_t ngx_http_dukcapil_peer_interest(ngx_http_dukcapil_peer_t *peer,
    ngx_uint_t read, ngx_uint_t write);
void ngx_http_dukcapil_peer_usable(ngx_http_dukcapil_peer_t *peer);
void ngx_http_dukcapil_peer_connected(ngx_http_dukcapil_peer_t *peer);
void ngx_http_dukcapil_peer_detach(ngx_http_dukcapil_peer_t *peer);
void ngx_http_dukcapil_peer_down(ngx_http_dukcapil_peer_t *peer,
    ngx_uint_t backoff);
void ngx_http_dukcapil_peer_exit(ngx_http_dukcapil_peer_t *peer);

void ngx_http_dukcapil_op_init(ngx_http_dukcapil_op_t *op,
    ngx_http_dukcapil_op_pt expire, ngx_http_dukcapil_op_pt free);
void ngx_http_dukcapil_op_wait(ngx_http_dukcapil_op_t *op,
    ngx_msec_t timeout);
void ngx_http_dukcapil_op_cancel(ngx_http_dukcapil_op_t *op);
ngx_int_t ngx_http_dukcapil_op_answered(ngx_http_dukcapil_op_t *op);


#endif /* _NGX_HTTP_DUKCAPIL_DRIVER_H_INCLUDED_ */
