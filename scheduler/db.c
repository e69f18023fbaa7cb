#include <stdio.h>
#include <string.h>

#include "db.h"

static int
dk_db_fail(dk_db_t *db, PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : "";

    if (msg == NULL || *msg == '\0')
        msg = PQerrorMessage(db->conn);
    dk_err_set(&db->err, "postgres: %s", msg);
    PQclear(res);
    return DK_ERR;
}

int
dk_db_connect(dk_db_t *db, const char *conninfo)
{
    PGresult *res;

    memset(db, 0, sizeof(*db));
    db->conn = PQconnectdb(conninfo);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        dk_err_set(&db->err, "postgres: %s", PQerrorMessage(db->conn));
        PQfinish(db->conn);
        db->conn = NULL;
        return DK_ERR;
    }
    /* dates are WIB days whatever the server's TimeZone says */
    res = PQexec(db->conn, "SET TIME ZONE 'Asia/Jakarta';"
                           "SET application_name = 'dukcapil-scheduler'");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        dk_db_fail(db, res);
        dk_db_close(db);
        return DK_ERR;
    }
    PQclear(res);
    return DK_OK;
}

void
dk_db_close(dk_db_t *db)
{
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    db->streaming = 0;
}

int
dk_db_query_binary(dk_db_t *db, PGresult **res, const char *sql, int nparams,
                   const char *const *params, const int *lengths,
                   const int *formats)
{
    ExecStatusType st;

    *res =
        PQexecParams(db->conn, sql, nparams, NULL, params, lengths, formats, 0);
    st = PQresultStatus(*res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK &&
        st != PGRES_COPY_IN) {
        dk_db_fail(db, *res);
        *res = NULL;
        return DK_ERR;
    }
    return DK_OK;
}

int
dk_db_query(dk_db_t *db, PGresult **res, const char *sql, int nparams,
            const char *const *params)
{
    return dk_db_query_binary(db, res, sql, nparams, params, NULL, NULL);
}

int
dk_db_exec(dk_db_t *db, const char *sql, int nparams, const char *const *params)
{
    PGresult *res;

    if (dk_db_query(db, &res, sql, nparams, params) != DK_OK)
        return DK_ERR;
    PQclear(res);
    return DK_OK;
}

int
dk_db_value(dk_db_t *db, char *buf, size_t len, const char *sql, int nparams,
            const char *const *params)
{
    PGresult *res;

    if (dk_db_query(db, &res, sql, nparams, params) != DK_OK)
        return DK_ERR;
    if (PQntuples(res) != 1 || PQnfields(res) < 1) {
        PQclear(res);
        return dk_err_set(&db->err, "postgres: expected one row");
    }
    snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return DK_OK;
}

int
dk_db_copy(dk_db_t *db, const char *data, size_t len)
{
    if (PQputCopyData(db->conn, data, (int)len) != 1)
        return dk_db_fail(db, NULL);
    return DK_OK;
}

int
dk_db_copy_end(dk_db_t *db)
{
    PGresult *res;

    if (PQputCopyEnd(db->conn, NULL) != 1)
        return dk_db_fail(db, NULL);
    res = PQgetResult(db->conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return dk_db_fail(db, res);
    PQclear(res);
    while ((res = PQgetResult(db->conn)) != NULL)
        PQclear(res);
    return DK_OK;
}

int
dk_db_begin(dk_db_t *db)
{
    return dk_db_exec(db, "BEGIN", 0, NULL);
}

int
dk_db_commit(dk_db_t *db)
{
    return dk_db_exec(db, "COMMIT", 0, NULL);
}

void
dk_db_rollback(dk_db_t *db)
{
    PGresult *res;

    if (db->conn == NULL)
        return;
    dk_db_stream_cancel(db);
    res = PQexec(db->conn, "ROLLBACK");
    PQclear(res);
}

int
dk_db_stream(dk_db_t *db, const char *sql, int nparams,
             const char *const *params)
{
    if (!PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0))
        return dk_db_fail(db, NULL);
    if (!PQsetSingleRowMode(db->conn)) {
        dk_db_stream_cancel(db);
        return dk_err_set(&db->err, "postgres: single-row mode refused");
    }
    db->streaming = 1;
    return DK_OK;
}

int
dk_db_stream_next(dk_db_t *db, PGresult **row)
{
    PGresult *res;

    *row = NULL;
    if (!db->streaming)
        return DK_BUSY;
    res = PQgetResult(db->conn);
    switch (PQresultStatus(res)) {
    case PGRES_SINGLE_TUPLE:
        *row = res;
        return DK_OK;
    case PGRES_TUPLES_OK:
        PQclear(res);
        dk_db_stream_cancel(db);
        return DK_BUSY;
    default:
        dk_db_fail(db, res);
        dk_db_stream_cancel(db);
        return DK_ERR;
    }
}

void
dk_db_stream_cancel(dk_db_t *db)
{
    PGresult *res;

    if (!db->streaming)
        return;
    while ((res = PQgetResult(db->conn)) != NULL)
        PQclear(res);
    db->streaming = 0;
}
