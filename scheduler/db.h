/*
 * PostgreSQL, blocking libpq: one connection per process, errors carried in
 * the context. Large results are streamed row by row (single-row mode).
 */
#ifndef DK_DB_H
#define DK_DB_H

#include <libpq-fe.h>

#include "status.h"

typedef struct {
    PGconn *conn;
    int streaming;
    dk_err_t err;
} dk_db_t;

int dk_db_connect(dk_db_t *db, const char *conninfo);
void dk_db_close(dk_db_t *db);

/* A statement whose rows, if any, are not wanted. */
int dk_db_exec(dk_db_t *db, const char *sql, int nparams,
               const char *const *params);

/* A statement whose rows are wanted: *res is the caller's to PQclear. */
int dk_db_query(dk_db_t *db, PGresult **res, const char *sql, int nparams,
                const char *const *params);

/* dk_db_query with lengths and formats (1 = binary) of the parameters. */
int dk_db_query_binary(dk_db_t *db, PGresult **res, const char *sql,
                       int nparams, const char *const *params,
                       const int *lengths, const int *formats);

/* Sends rows to a COPY ... FROM STDIN already started with dk_db_exec. */
int dk_db_copy(dk_db_t *db, const char *data, size_t len);
int dk_db_copy_end(dk_db_t *db);

/* Like dk_db_query for one row of one column, copied into buf. */
int dk_db_value(dk_db_t *db, char *buf, size_t len, const char *sql,
                int nparams, const char *const *params);

int dk_db_begin(dk_db_t *db);
int dk_db_commit(dk_db_t *db);
/* Never fails the caller: a failed rollback leaves the connection to be
 * closed, and the server rolls back then. */
void dk_db_rollback(dk_db_t *db);

/* Streams the rows of a query: dk_db_stream_next gives DK_OK with one row in
 * *row (the caller PQclears it), DK_BUSY at the end, DK_ERR on failure. */
int dk_db_stream(dk_db_t *db, const char *sql, int nparams,
                 const char *const *params);
int dk_db_stream_next(dk_db_t *db, PGresult **row);
/* Drops the rest of a stream left early. */
void dk_db_stream_cancel(dk_db_t *db);

#endif
