
/*
 * One connection of the PostgreSQL pool.  A statement that times out
 * closes its connection, so the server rolls back whatever had not
 * committed, and a new one is opened.  Connections are never marked idle:
 * a worker that shuts down still answers the requests it has read, and
 * closes them in exit_process.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_dukcapil_pg_conn.h"


/* at most this many parameters in a statement that carries a deadline */
#define NGX_HTTP_DUKCAPIL_PG_PARAMS  16

#define NGX_HTTP_DUKCAPIL_PG_CLOCK                                            \
    "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint"


static void ngx_http_dukcapil_pg_conn_connect(ngx_http_dukcapil_peer_t *peer);
static void ngx_http_dukcapil_pg_conn_abort(ngx_http_dukcapil_peer_t *peer);
static void ngx_http_dukcapil_pg_conn_poll(ngx_http_dukcapil_pg_conn_t *pc);
static ngx_int_t ngx_http_dukcapil_pg_conn_prepare(
    ngx_http_dukcapil_pg_conn_t *pc);
static ngx_int_t ngx_http_dukcapil_pg_conn_flush(
    ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_conn_handler(ngx_event_t *ev);
static void ngx_http_dukcapil_pg_conn_receive(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_conn_complete(
    ngx_http_dukcapil_pg_conn_t *pc);
static ngx_int_t ngx_http_dukcapil_pg_conn_clock(
    ngx_http_dukcapil_pg_conn_t *pc, PGresult *res);
static void ngx_http_dukcapil_pg_conn_idle(ngx_http_dukcapil_pg_conn_t *pc);
static void ngx_http_dukcapil_pg_conn_notice(void *arg, const char *message);


/*
 * PostgreSQL's wall clock minus nginx's monotonic one, in ms, as the last
 * connection read it
 */
static int64_t  ngx_http_dukcapil_pg_clock_offset;


void
ngx_http_dukcapil_pg_conn_init(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_http_dukcapil_pg_conf_t *conf, ngx_log_t *log)
{
    pc->conf = conf;

    ngx_http_dukcapil_peer_init(&pc->peer, log);

    pc->peer.name = "postgres";
    pc->peer.connect_timeout = conf->connect_timeout;
    pc->peer.connect = ngx_http_dukcapil_pg_conn_connect;
    pc->peer.abort = ngx_http_dukcapil_pg_conn_abort;
    pc->peer.read = ngx_http_dukcapil_pg_conn_handler;
    pc->peer.write = ngx_http_dukcapil_pg_conn_handler;
    pc->peer.data = pc;

    ngx_http_dukcapil_pg_conn_connect(&pc->peer);
}

static void
ngx_http_dukcapil_pg_conn_connect(ngx_http_dukcapil_peer_t *peer)
{
    ngx_http_dukcapil_pg_conn_t  *pc;

    pc = peer->data;

    pc->pg = PQconnectStart((char *) pc->conf->conninfo);

    if (pc->pg == NULL || PQstatus(pc->pg) == CONNECTION_BAD
        || PQsetnonblocking(pc->pg, 1) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, peer->log, 0,
                      "dukcapil: postgres connect failed: %s",
                      pc->pg ? PQerrorMessage(pc->pg) : "out of memory");
        ngx_http_dukcapil_pg_conn_close(pc, 1);
        return;
    }

    PQsetNoticeProcessor(pc->pg, ngx_http_dukcapil_pg_conn_notice, NULL);

    pc->state = NGX_HTTP_DUKCAPIL_PG_CONNECTING;

    /* connect_timeout covers the statements' preparation too */
    ngx_http_dukcapil_peer_connecting(peer);

    ngx_http_dukcapil_pg_conn_poll(pc);
}


/* the connect or the preparation took too long */

static void
ngx_http_dukcapil_pg_conn_abort(ngx_http_dukcapil_peer_t *peer)
{
    ngx_http_dukcapil_pg_conn_t  *pc;

    pc = peer->data;

    ngx_http_dukcapil_pg_conn_close(pc, 1);

    pc->conf->failed(pc);
}


static void
ngx_http_dukcapil_pg_conn_poll(ngx_http_dukcapil_pg_conn_t *pc)
{
    PostgresPollingStatusType  status;

    status = PQconnectPoll(pc->pg);

    if (status == PGRES_POLLING_FAILED) {
        ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                      "dukcapil: postgres connect failed: %s",
                      PQerrorMessage(pc->pg));
        ngx_http_dukcapil_pg_conn_close(pc, 1);
        return;
    }

    if (ngx_http_dukcapil_peer_attach(&pc->peer, PQsocket(pc->pg))
        != NGX_OK)
    {
        ngx_http_dukcapil_pg_conn_close(pc, 1);
        return;
    }

    switch (status) {

    case PGRES_POLLING_READING:
        (void) ngx_http_dukcapil_peer_interest(&pc->peer, 1, 0);
        return;

    case PGRES_POLLING_WRITING:
        (void) ngx_http_dukcapil_peer_interest(&pc->peer, 0, 1);
        return;

    default: /* PGRES_POLLING_OK */
        break;
    }

    pc->state = NGX_HTTP_DUKCAPIL_PG_PREPARING;
    pc->prepared = 0;

    if (ngx_http_dukcapil_pg_conn_prepare(pc) != NGX_OK) {
        ngx_http_dukcapil_pg_conn_close(pc, 1);
    }
}


static ngx_int_t
ngx_http_dukcapil_pg_conn_prepare(ngx_http_dukcapil_pg_conn_t *pc)
{
    ngx_http_dukcapil_statement_t  *st;

    if (pc->prepared == pc->conf->nstatements) {
        /* last, the server's clock: its answer makes the connection ready */
        pc->clock_asked = ngx_current_msec;

        if (!PQsendQueryParams(pc->pg, NGX_HTTP_DUKCAPIL_PG_CLOCK, 0, NULL,
                               NULL, NULL, NULL, 0))
        {
            ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                          "dukcapil: postgres clock read failed: %s",
                          PQerrorMessage(pc->pg));
            return NGX_ERROR;
        }

        return ngx_http_dukcapil_pg_conn_flush(pc);
    }

    st = &pc->conf->statements[pc->prepared];

    if (!PQsendPrepare(pc->pg, st->name, st->sql, st->nparams, NULL)) {
        ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                      "dukcapil: postgres prepare \"%s\" failed: %s",
                      st->name, PQerrorMessage(pc->pg));
        return NGX_ERROR;
    }

    return ngx_http_dukcapil_pg_conn_flush(pc);
}


static ngx_int_t
ngx_http_dukcapil_pg_conn_flush(ngx_http_dukcapil_pg_conn_t *pc)
{
    int  rc;

    rc = PQflush(pc->pg);

    if (rc == -1) {
        ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                      "dukcapil: postgres send failed: %s",
                      PQerrorMessage(pc->pg));
        return NGX_ERROR;
    }

    return ngx_http_dukcapil_peer_interest(&pc->peer, 1, rc == 1);
}


static void
ngx_http_dukcapil_pg_conn_handler(ngx_event_t *ev)
{
    ngx_connection_t             *c;
    ngx_http_dukcapil_peer_t     *peer;
    ngx_http_dukcapil_pg_conn_t  *pc;

    c = ev->data;
    peer = c->data;
    pc = peer->data;

    switch (pc->state) {

    case NGX_HTTP_DUKCAPIL_PG_CONNECTING:
        ngx_http_dukcapil_pg_conn_poll(pc);
        return;

    case NGX_HTTP_DUKCAPIL_PG_PREPARING:
    case NGX_HTTP_DUKCAPIL_PG_BUSY:
        if (ev->write) {
            if (ngx_http_dukcapil_pg_conn_flush(pc) != NGX_OK) {
                ngx_http_dukcapil_pg_conn_close(pc, 1);
            }
            return;
        }

        ngx_http_dukcapil_pg_conn_receive(pc);
        return;

    case NGX_HTTP_DUKCAPIL_PG_IDLE:
        /* nothing is expected: a notice, or the server went away */
        if (!PQconsumeInput(pc->pg) || PQstatus(pc->pg) != CONNECTION_OK) {
            ngx_log_error(NGX_LOG_ERR, peer->log, 0,
                          "dukcapil: postgres connection lost: %s",
                          PQerrorMessage(pc->pg));
            ngx_http_dukcapil_pg_conn_close(pc, 0);
        }
        return;

    default:
        return;
    }
}


static void
ngx_http_dukcapil_pg_conn_receive(ngx_http_dukcapil_pg_conn_t *pc)
{
    PGresult    *res;
    ngx_uint_t   n;

    if (!PQconsumeInput(pc->pg)) {
        ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                      "dukcapil: postgres connection lost: %s",
                      PQerrorMessage(pc->pg));

        /* what the server said before it went away was read: keep it */
        for (n = 0; n < 4 && (res = PQgetResult(pc->pg)) != NULL; n++) {
            if (pc->result == NULL) {
                pc->result = res;

            } else {
                PQclear(res);
            }
        }

        ngx_http_dukcapil_pg_conn_close(pc, 0);
        return;
    }

    while (!PQisBusy(pc->pg)) {
        res = PQgetResult(pc->pg);

        if (res == NULL) {
            ngx_http_dukcapil_pg_conn_complete(pc);
            return;
        }

        /* a statement answers one result: keep the first, error or not */
        if (pc->result == NULL) {
            pc->result = res;

        } else {
            PQclear(res);
        }
    }
}


static void
ngx_http_dukcapil_pg_conn_complete(ngx_http_dukcapil_pg_conn_t *pc)
{
    PGresult                   *res;
    ngx_http_dukcapil_pg_op_t  *op;

    res = pc->result;
    pc->result = NULL;

    if (pc->state == NGX_HTTP_DUKCAPIL_PG_PREPARING) {

        if (pc->prepared == pc->conf->nstatements) {
            if (ngx_http_dukcapil_pg_conn_clock(pc, res) != NGX_OK) {
                PQclear(res);
                ngx_http_dukcapil_pg_conn_close(pc, 1);
                return;
            }

        } else if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
            ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                          "dukcapil: postgres prepare \"%s\" failed: %s",
                          pc->conf->statements[pc->prepared].name,
                          res ? PQresultErrorMessage(res) : "no result");
            PQclear(res);
            ngx_http_dukcapil_pg_conn_close(pc, 1);
            return;
        }

        PQclear(res);

        if (pc->prepared++ == pc->conf->nstatements) {
            ngx_http_dukcapil_peer_connected(&pc->peer);
            ngx_http_dukcapil_pg_conn_idle(pc);
            return;
        }

        if (ngx_http_dukcapil_pg_conn_prepare(pc) != NGX_OK) {
            ngx_http_dukcapil_pg_conn_close(pc, 1);
        }

        return;
    }

    op = pc->op;
    pc->op = NULL;

    ngx_http_dukcapil_pg_conn_idle(pc);

    if (op) {
        pc->conf->answer(op, res);
    }

    PQclear(res);
}


/*
 * The server's clock, read when the connection became ready, against
 * nginx's monotonic clock (which no NTP step and no faked wall clock
 * moves), taken at the middle of the round trip: within half of it.
 */
static ngx_int_t
ngx_http_dukcapil_pg_conn_clock(ngx_http_dukcapil_pg_conn_t *pc,
    PGresult *res)
{
    char        *v;
    int64_t      theirs, skew;
    ngx_msec_t   mid;
    ngx_time_t  *tp;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1)
    {
        ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                      "dukcapil: postgres clock read failed: %s",
                      res ? PQresultErrorMessage(res) : "no result");
        return NGX_ERROR;
    }

    v = PQgetvalue(res, 0, 0);
    theirs = ngx_atoof((u_char *) v, ngx_strlen(v));

    if (theirs == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                      "dukcapil: postgres clock read failed: \"%s\"", v);
        return NGX_ERROR;
    }

    mid = pc->clock_asked + (ngx_current_msec - pc->clock_asked) / 2;
    ngx_http_dukcapil_pg_clock_offset = theirs - (int64_t) mid;

    /* the wall clocks should agree (NTP); deadlines do not depend on it */
    tp = ngx_timeofday();
    skew = theirs - ((int64_t) tp->sec * 1000 + (int64_t) tp->msec
                     - (int64_t) (ngx_current_msec - mid));

    if (skew > 1000 || skew < -1000) {
        ngx_log_error(NGX_LOG_WARN, pc->peer.log, 0,
                      "dukcapil: postgres clock is %L ms %s nginx's",
                      skew < 0 ? -skew : skew,
                      skew < 0 ? "behind" : "ahead of");
    }

    return NGX_OK;
}


/* the connection is free: the pool hands it its next statement, if any */

static void
ngx_http_dukcapil_pg_conn_idle(ngx_http_dukcapil_pg_conn_t *pc)
{
    pc->state = NGX_HTTP_DUKCAPIL_PG_IDLE;

    pc->conf->idle(pc);
}


/* nothing to send: only a notice, or the server going away, is read */

void
ngx_http_dukcapil_pg_conn_listen(ngx_http_dukcapil_pg_conn_t *pc)
{
    (void) ngx_http_dukcapil_peer_interest(&pc->peer, 1, 0);
}


ngx_int_t
ngx_http_dukcapil_pg_conn_send(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_http_dukcapil_pg_op_t *op)
{
    char                            deadline[NGX_INT64_LEN + 1];
    const char                     *values[NGX_HTTP_DUKCAPIL_PG_PARAMS];
    const char * const             *v;
    ngx_http_dukcapil_statement_t  *st;

    st = &pc->conf->statements[op->statement];
    v = op->values;

    if (st->deadline && op->nparams <= NGX_HTTP_DUKCAPIL_PG_PARAMS) {
        /*
         * After its op stops waiting, a statement must not take effect:
         * the moment is written in the server's clock, as read when the
         * connection became ready, so nginx's wall clock does not matter.
         */
        ngx_memcpy(values, op->values, (op->nparams - 1) * sizeof(char *));
        (void) ngx_sprintf((u_char *) deadline, "%L%Z",
                           (int64_t) op->expires
                           + ngx_http_dukcapil_pg_clock_offset);
        values[op->nparams - 1] = deadline;
        v = values;
    }

    if (!PQsendQueryPrepared(pc->pg, st->name, op->nparams, v,
                             op->lengths, NULL, 0))
    {
        ngx_log_error(NGX_LOG_ERR, pc->peer.log, 0,
                      "dukcapil: postgres send \"%s\" failed: %s",
                      st->name, PQerrorMessage(pc->pg));
        ngx_http_dukcapil_pg_conn_close(pc, 0);
        return NGX_ERROR;
    }

    pc->state = NGX_HTTP_DUKCAPIL_PG_BUSY;
    pc->op = op;
    op->backend = PQbackendPID(pc->pg);
    op->op.outstanding = 1;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->peer.log, 0,
                   "dukcapil postgres: op %p sends \"%s\" to backend %ui",
                   op, st->name, op->backend);

    if (ngx_http_dukcapil_pg_conn_flush(pc) != NGX_OK) {
        /* its answer will never come: it fails as unsent */
        pc->op = NULL;
        op->op.outstanding = 0;
        ngx_http_dukcapil_pg_conn_close(pc, 0);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Closes a connection and fails what it carried.  backoff: the next one
 * after the back-off; 0: at once (the server is probably fine).
 */
void
ngx_http_dukcapil_pg_conn_close(ngx_http_dukcapil_pg_conn_t *pc,
    ngx_uint_t backoff)
{
    PGresult                   *res;
    ngx_http_dukcapil_pg_op_t  *op;

    ngx_http_dukcapil_peer_detach(&pc->peer);

    if (pc->pg) {
        PQfinish(pc->pg);
        pc->pg = NULL;
    }

    /*
     * An error the server sent before it went away (a shutdown, say) is a
     * definite answer: the statement did not commit.  One that libpq made
     * up for the lost connection has no SQLSTATE, and says nothing.
     */
    res = pc->result;
    pc->result = NULL;

    if (res && PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL) {
        PQclear(res);
        res = NULL;
    }

    pc->state = NGX_HTTP_DUKCAPIL_PG_DOWN;
    ngx_http_dukcapil_peer_down(&pc->peer, backoff);

    op = pc->op;
    pc->op = NULL;

    if (op) {
        pc->conf->answer(op, res);
    }

    if (res) {
        PQclear(res);
    }
}


static void
ngx_http_dukcapil_pg_conn_notice(void *arg, const char *message)
{
    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "dukcapil: postgres: %s", message);
}
