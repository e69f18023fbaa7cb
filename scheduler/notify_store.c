#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_store.h"

/* A due row is claimed by counting a try and moving next_attempt_at past
 * the lease: no other daemon sees it due until the lease has run out (a
 * crash), and each settlement names the try it settles. */
static const char dk_store_claim_sql[] =
    "UPDATE notification n"
    " SET attempts = n.attempts + 1,"
    "     next_attempt_at = now() + make_interval(secs => $2),"
    "     channel = CASE WHEN $3 = 'file' THEN 'file'"
    "                    WHEN n.channel = 'sms' THEN 'sms'"
    "                    ELSE 'whatsapp' END"
    " WHERE n.id = ANY (ARRAY("
    "   SELECT id FROM notification"
    "   WHERE status = 'queued' AND next_attempt_at <= now()"
    "   ORDER BY kind <> 'otp', next_attempt_at, id"
    "   LIMIT $1 FOR UPDATE SKIP LOCKED))"
    " RETURNING n.id, n.kind, n.phone, n.params::text, n.channel, n.attempts,"
    "  to_char(n.created_at AT TIME ZONE 'Asia/Jakarta',"
    "          'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'),"
    "  extract(epoch FROM now() - n.created_at)::int";

/* Only the try a daemon holds is settled by it: same attempts, same
 * channel, still queued. An OTP's code goes once it is sent or given up.
 * The rows are found by their ids (= ANY of an array), never by a scan of
 * the table: the planner takes the function for 100 rows of any size. */
static const char dk_store_settle_sql[] =
    "UPDATE notification n SET"
    " status = CASE d.op WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed'"
    "          ELSE 'queued' END,"
    " sent_at = CASE WHEN d.op = 'sent' THEN now() END,"
    " channel = CASE WHEN d.op = 'fallback' THEN 'sms' ELSE n.channel END,"
    " attempts = CASE d.op WHEN 'fallback' THEN 0"
    "            WHEN 'release' THEN n.attempts - 1 ELSE n.attempts END,"
    " next_attempt_at = CASE d.op"
    "   WHEN 'retry' THEN now() + d.delay_ms * interval '1 millisecond'"
    "   WHEN 'fallback' THEN now() WHEN 'release' THEN now()"
    "   ELSE n.next_attempt_at END,"
    " last_error = CASE d.op WHEN 'sent' THEN NULL"
    "              WHEN 'release' THEN n.last_error ELSE d.error END,"
    " params = CASE WHEN n.kind = 'otp' AND d.op IN ('sent', 'failed')"
    "          THEN '{}'::jsonb ELSE n.params END"
    " FROM jsonb_to_recordset($1::jsonb) AS d(id bigint, attempts int,"
    "      via text, op text, delay_ms bigint, error text)"
    " WHERE n.id = d.id AND n.status = 'queued' AND n.attempts = d.attempts"
    "   AND n.id = ANY (ARRAY(SELECT (e->>'id')::bigint"
    "                         FROM jsonb_array_elements($1::jsonb) e))"
    "   AND n.channel = d.via"
    " RETURNING n.id";

/* The claim and the settlement run hundreds of times a second: prepared
 * once per connection, not planned each time. */
static int
dk_store_prepare(dk_db_t *db, const char *name, const char *sql, int nparams)
{
    PGresult *res = PQprepare(db->conn, name, sql, nparams, NULL);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok)
        dk_err_set(&db->err, "postgres: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? DK_OK : DK_ERR;
}

static int
dk_store_run(dk_db_t *db, PGresult **res, const char *name, int nparams,
             const char *const *params)
{
    *res = PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
    if (PQresultStatus(*res) == PGRES_TUPLES_OK)
        return DK_OK;
    dk_err_set(&db->err, "postgres: %s",
               *res != NULL ? PQresultErrorMessage(*res)
                            : PQerrorMessage(db->conn));
    PQclear(*res);
    *res = NULL;
    return DK_ERR;
}

int
dk_store_connect(dk_db_t *db, const char *conninfo)
{
    if (dk_db_connect(db, conninfo) != DK_OK)
        return DK_ERR;
    if (dk_store_prepare(db, "dk_claim", dk_store_claim_sql, 3) != DK_OK ||
        dk_store_prepare(db, "dk_settle", dk_store_settle_sql, 1) != DK_OK) {
        dk_db_close(db);
        return DK_ERR;
    }
    if (dk_db_exec(db, "SET application_name = 'dukcapil-scheduler sender'", 0,
                   NULL) != DK_OK ||
        dk_db_exec(db, "SET statement_timeout = '10s'", 0, NULL) != DK_OK ||
        dk_db_exec(db, "LISTEN dk_notification", 0, NULL) != DK_OK) {
        dk_db_close(db);
        return DK_ERR;
    }
    return DK_OK;
}

int
dk_store_woken(dk_db_t *db)
{
    PGnotify *n;
    int woken = 0;

    if (!PQconsumeInput(db->conn))
        return dk_err_set(&db->err, "postgres: %s", PQerrorMessage(db->conn));
    while ((n = PQnotifies(db->conn)) != NULL) {
        woken = 1;
        PQfreemem(n);
    }
    return woken;
}

static int
dk_store_via(const char *channel)
{
    if (strcmp(channel, "sms") == 0)
        return DK_VIA_SMS;
    return strcmp(channel, "file") == 0 ? DK_VIA_FILE : DK_VIA_WHATSAPP;
}

/* The message of a claimed row, its text rendered; NULL with why when its
 * text cannot be made. */
static dk_message_t *
dk_store_message(PGresult *res, int row, const dk_notify_config_t *cfg,
                 char *why, size_t whylen)
{
    dk_message_t *m = calloc(1, sizeof(*m));
    json_error_t jerr;
    json_t *params;

    if (m == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    m->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    snprintf(m->id_s, sizeof(m->id_s), "%lld", m->id);
    m->kind = dk_notify_kind_parse(PQgetvalue(res, row, 1));
    snprintf(m->phone, sizeof(m->phone), "%s", PQgetvalue(res, row, 2));
    m->via = dk_store_via(PQgetvalue(res, row, 4));
    m->attempts = atoi(PQgetvalue(res, row, 5));
    snprintf(m->created_at, sizeof(m->created_at), "%s",
             PQgetvalue(res, row, 6));
    /* a code past its validity would only mislead: never sent */
    if (m->kind == DK_NOTIFY_OTP &&
        atoi(PQgetvalue(res, row, 7)) > cfg->otp_valid_seconds) {
        snprintf(why, whylen, "expired: a code is valid %d seconds",
                 cfg->otp_valid_seconds);
        return m; /* text empty: the caller fails it */
    }
    params = json_loads(PQgetvalue(res, row, 3), 0, &jerr);
    if (m->kind < 0 || params == NULL ||
        dk_notify_render(m->kind, cfg->templates[m->kind], params, m->text,
                         sizeof(m->text), why, whylen) < 0) {
        if (m->kind < 0 || params == NULL)
            snprintf(why, whylen, "unknown kind or params");
        json_decref(params);
        return m; /* text empty: the caller fails it */
    }
    json_decref(params);
    return m;
}

int
dk_store_claim(dk_db_t *db, const dk_notify_config_t *cfg, int limit,
               dk_message_t **claimed, int *n)
{
    char limit_s[16], lease_s[16], why[160];
    const char *params[] = {limit_s, lease_s,
                            cfg->channel == DK_CHANNEL_FILE ? "file" : "http"};
    dk_message_t *m, **tail = claimed;
    PGresult *res;
    int i;

    *claimed = NULL;
    *n = 0;
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    snprintf(lease_s, sizeof(lease_s), "%d", cfg->lease_seconds);
    if (dk_store_run(db, &res, "dk_claim", 3, params) != DK_OK)
        return DK_ERR;
    for (i = 0; i < PQntuples(res); i++) {
        why[0] = '\0';
        m = dk_store_message(res, i, cfg, why, sizeof(why));
        if (m == NULL)
            break; /* out of memory: the rest come back after the lease */
        if (m->text[0] == '\0') {
            m->status = -1; /* not sendable: the sender fails it */
            snprintf(m->error, sizeof(m->error), "not sent: %s", why);
        }
        *tail = m;
        tail = &m->next;
        (*n)++;
    }
    PQclear(res);
    return DK_OK;
}

int
dk_store_settle(dk_db_t *db, json_t *ops, json_t **applied)
{
    char *text = json_dumps(ops, JSON_COMPACT);
    const char *params[] = {text};
    PGresult *res;
    int i, rc;

    *applied = NULL;
    if (text == NULL)
        return dk_err_set(&db->err, "out of memory");
    rc = dk_store_run(db, &res, "dk_settle", 1, params);
    free(text);
    if (rc != DK_OK)
        return DK_ERR;
    *applied = json_object();
    for (i = 0; i < PQntuples(res); i++)
        json_object_set_new(*applied, PQgetvalue(res, i, 0), json_true());
    PQclear(res);
    return DK_OK;
}

/* The rows before the first one younger than the retention, in batches:
 * the ids grow with created_at (sql/012), so the primary key serves. */
int
dk_store_retention(dk_db_t *db, int days, long long *deleted)
{
    char days_s[16], n[24];
    const char *params[] = {days_s};
    long long got;

    *deleted = 0;
    snprintf(days_s, sizeof(days_s), "%d", days);
    do {
        if (dk_db_value(
                db, n, sizeof(n),
                "WITH edge AS (SELECT id FROM notification"
                "  WHERE created_at >= now() - make_interval(days => $1)"
                "  ORDER BY id LIMIT 1),"
                " gone AS (DELETE FROM notification WHERE id IN"
                " (SELECT id FROM notification"
                "  WHERE id < coalesce((SELECT id FROM edge),"
                "                      9223372036854775807)"
                "  ORDER BY id LIMIT 5000) RETURNING 1)"
                " SELECT count(*) FROM gone",
                1, params) != DK_OK)
            return DK_ERR;
        got = strtoll(n, NULL, 10);
        *deleted += got;
    } while (got == 5000);
    return DK_OK;
}

int
dk_store_figures(dk_db_t *db, json_t **queued, double *oldest)
{
    char key[96];
    PGresult *res;
    double age;
    int i;

    *queued = NULL;
    *oldest = 0;
    if (dk_db_query(db, &res,
                    "SELECT kind, coalesce(channel, 'pending'), count(*),"
                    " extract(epoch FROM now() - min(created_at))"
                    " FROM notification WHERE status = 'queued'"
                    " GROUP BY 1, 2",
                    0, NULL) != DK_OK)
        return DK_ERR;
    *queued = json_object();
    for (i = 0; i < PQntuples(res); i++) {
        snprintf(key, sizeof(key), "%s|%s", PQgetvalue(res, i, 0),
                 PQgetvalue(res, i, 1));
        json_object_set_new(*queued, key,
                            json_integer(atoll(PQgetvalue(res, i, 2))));
        age = atof(PQgetvalue(res, i, 3));
        if (age > *oldest)
            *oldest = age;
    }
    PQclear(res);
    return DK_OK;
}
