
/*
 * Every statement the module sends, in one place.  Each is one atomic step:
 * where a step needs several, a CTE or a SQL function makes it one.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_sql.h"


/* a time as RFC 3339 in WIB, the way API.md writes every time */
#define DK_SQL_TS  "'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'"


ngx_http_dukcapil_statement_t  ngx_http_dukcapil_statements[] = {

    { "dk_ping", "SELECT 1", 0 },

    /*
     * $9: the date is a weekday the office is normally closed ("1"), so
     * that only an opening lets the row in; a closure never does: the rule
     * of calendar_day(), as two index probes.  A change of the calendar
     * locks the table against this INSERT (sql/010_calendar_table_lock.sql),
     * so the statement's snapshot, taken once its lock is granted, sees a
     * closure committed while it waited.
     *
     * $10: when the module stops waiting for it, in ms since the epoch of
     * PostgreSQL's clock (written when sent, pg_conn.c): a statement that
     * runs after the module gave up on it (and told its citizen 503)
     * inserts nothing.  The server's clock is read on each connect and
     * followed by nginx's monotonic clock; a server clock stepped since
     * by more than a fraction of dukcapil_postgres_timeout may let a late
     * row through, which is then settled (settle.c) all the same.
     *
     * The row's notification (sql/011_notification_events.sql) is
     * written by the same statement, so it exists exactly when the row
     * committed, even after its citizen heard 503.
     *
     * Answers (inserted, in time, bookable): not inserted, in time and
     * bookable is the NIK's active appointment of that date at another
     * office, found without a unique violation, whose DETAIL would write
     * the NIK into the server's log; not bookable, the calendar's refusal.
     */
    { "dk_appointment_insert",
      "WITH t AS ("
      "    SELECT NOT EXISTS (SELECT 1 FROM calendar_closure c"
      "                        WHERE c.date = $7::date"
      "                          AND (c.office = $5::text"
      "                               OR c.office IS NULL))"
      "           AND (NOT $9::boolean"
      "                OR EXISTS (SELECT 1 FROM calendar_opening g"
      "                            WHERE g.date = $7::date"
      "                              AND (g.office = $5::text"
      "                                   OR g.office IS NULL)))"
      "           AS bookable,"
      "           clock_timestamp() < to_timestamp($10::bigint / 1000.0)"
      "           AS in_time),"
      " booked AS ("
      "    INSERT INTO appointment (code, nik, name, phone, office, service,"
      "                             date, queue_number)"
      "    SELECT $1::text, $2::text, $3::text, $4::text, $5::text,"
      "           $6::text, $7::date, $8::integer"
      "      FROM t WHERE t.bookable AND t.in_time"
      "    ON CONFLICT (nik, date)"
      "    WHERE status IN ('booked', 'checked_in', 'called', 'served')"
      "    DO NOTHING"
      "    RETURNING id),"
      " told AS ("
      "    INSERT INTO notification (kind, phone, appointment_id, params)"
      "    SELECT 'appointment_booked', $4::text, b.id,"
      "           jsonb_build_object("
      "               'code', $1::text,"
      "               'date', to_char($7::date, 'YYYY-MM-DD'),"
      "               'office_name', (SELECT name FROM office"
      "                                WHERE code = $5::text),"
      "               'service_name', (SELECT name FROM service"
      "                                 WHERE code = $6::text),"
      "               'queue_number', $8::integer)"
      "      FROM booked b)"
      " SELECT EXISTS (SELECT 1 FROM booked), t.in_time, t.bookable FROM t",
      10, 1 },

    { "dk_appointment_get",
      "SELECT code, status, queue_number, office, service,"
      "       to_char(date, 'YYYY-MM-DD'), cancel_reason"
      "  FROM appointment WHERE code = $1 AND nik = $2",
      2 },

    /*
     * Whether a booking whose answer was lost committed: known once the
     * backend that ran it ($2) is gone, for then it finished either way.
     */
    { "dk_appointment_settle",
      "SELECT EXISTS (SELECT 1 FROM appointment WHERE code = $1),"
      "       EXISTS (SELECT 1 FROM pg_stat_activity"
      "                WHERE pid = $2::integer)",
      2 },

    /* $3: today in WIB; a past appointment is no longer cancelled */
    { "dk_appointment_cancel",
      "WITH target AS ("
      "    SELECT id, status, date FROM appointment"
      "     WHERE code = $1 AND nik = $2 FOR UPDATE),"
      " cancelled AS ("
      "    UPDATE appointment a SET status = 'cancelled',"
      "                            cancelled_at = now()"
      "      FROM target t"
      "     WHERE a.id = t.id AND t.status = 'booked'"
      "       AND t.date >= $3::date"
      "    RETURNING a.id)"
      " SELECT t.status, c.id IS NOT NULL, a.office, a.service,"
      "        to_char(a.date, 'YYYY-MM-DD'), a.queue_number"
      "   FROM target t JOIN appointment a ON a.id = t.id"
      "   LEFT JOIN cancelled c ON c.id = t.id",
      3 },

    /*
     * $2: today in WIB, $3: the operator (the actor of its history row,
     * sql/013_counter.sql).  Answers the status found, whether this
     * statement checked in, and what the operator compares with the KTP.
     */
    { "dk_appointment_check_in",
      "WITH target AS ("
      "    SELECT id, status, date FROM appointment"
      "     WHERE code = $1 FOR UPDATE),"
      " checked AS ("
      "    UPDATE appointment a SET status = 'checked_in',"
      "                            checked_in_at = now(),"
      "                            checked_in_by = $3"
      "      FROM target t"
      "     WHERE a.id = t.id AND t.status = 'booked'"
      "       AND t.date = $2::date"
      "    RETURNING a.id)"
      " SELECT t.status, c.id IS NOT NULL, to_char(t.date, 'YYYY-MM-DD'),"
      "        a.queue_number, a.service, s.name, a.office, a.name, a.nik"
      "   FROM target t JOIN appointment a ON a.id = t.id"
      "   JOIN service s ON s.code = a.service"
      "   LEFT JOIN checked c ON c.id = t.id",
      3 },

    { "dk_quota_set",
      "INSERT INTO quota_override (office, service, date, quota, set_by)"
      " VALUES ($1, $2, $3::date, $4::integer, $5)"
      " ON CONFLICT (office, service, date)"
      " DO UPDATE SET quota = EXCLUDED.quota, set_by = EXCLUDED.set_by,"
      "               set_at = now()",
      5 },

    /*
     * The application and its history row; a post one only while the
     * budget of the period holding $17 (today in WIB) has room for it,
     * decided in the same transaction (sql/006_delivery_periods.sql).
     */
    { "dk_application_insert",
      "SELECT outcome, suggested_office FROM application_submit("
      "    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
      "    $15, $16::boolean, $17::date)",
      17 },

    /* the citizen's view, as the JSON of API.md; never the operator */
    { "dk_application_get",
      "SELECT json_build_object("
      "    'code', a.code, 'service', a.service, 'status', a.status,"
      "    'delivery', json_strip_nulls(json_build_object("
      "        'method', a.delivery_method,"
      "        'office', a.pickup_office,"
      "        'office_name', o.name,"
      "        'kecamatan', k.name,"
      "        'tracking_number', d.resi)),"
      "    'history', (SELECT json_agg(json_strip_nulls(json_build_object("
      "                    'at', to_char(h.at AT TIME ZONE 'Asia/Jakarta',"
      "                                  'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'),"
      "                    'status', h.to_status,"
      "                    'note', h.note)) ORDER BY h.id)"
      "                  FROM application_history h"
      "                 WHERE h.application_id = a.id))"
      "  FROM application a"
      "  LEFT JOIN kecamatan k ON k.code = a.kecamatan_code"
      "  LEFT JOIN office o ON o.code = a.pickup_office"
      "  LEFT JOIN delivery d ON d.application_id = a.id"
      " WHERE a.code = $1 AND a.nik = $2",
      2 },

    /* an operator's step: the delivery's own steps are 'reserved' */
    { "dk_application_transition",
      "SELECT outcome, status, set_by"
      "  FROM application_transition_by_office($1, $2, $3, $4)",
      4 },

    /*
     * The office's calendar (sql/005_calendar.sql): $1 the date, $2 the
     * office or NULL for every office.  Each answers its outcome, then per
     * office concerned: its closure's reason or NULL, whether it is
     * opened, the codes of the appointments cancelled there and how many.
     */
    { "dk_calendar_close",
      "SELECT * FROM calendar_close($1::date, $2, $3, $4, 'operator')",
      4 },

    { "dk_calendar_reopen",
      "SELECT * FROM calendar_reopen($1::date, $2)",
      2 },

    { "dk_calendar_open",
      "SELECT * FROM calendar_open($1::date, $2, $3)",
      3 },

    /* $3: the date is a weekday the office is normally closed */
    { "dk_calendar_unopen",
      "SELECT * FROM calendar_unopen($1::date, $2, $3::boolean)",
      3 },

    /* $2: the confirmed kecamatan's code, or $3: an office to pick up at */
    { "dk_application_address",
      "SELECT outcome, status, method, kecamatan, office"
      "  FROM application_address_settle($1, $2, $3, $4)",
      4 },

    /* a verification code, to the outbox: the daemon sends it */
    { "dk_otp_notify",
      "INSERT INTO notification (kind, phone, params)"
      " VALUES ('otp', $1, jsonb_build_object('code', $2::text))",
      2 },

    /*
     * The queue at the office (sql/013_counter.sql).  $1 the office, $2
     * the date, $3 a status or NULL: the day's list, by service and queue
     * number.
     */
    { "dk_appointment_list",
      "SELECT a.code, a.queue_number, a.service, s.name, a.name, a.nik,"
      "       a.status, a.calls, a.counter,"
      "       to_char(a.checked_in_at AT TIME ZONE 'Asia/Jakarta',"
      "               " DK_SQL_TS "),"
      "       to_char(a.called_at AT TIME ZONE 'Asia/Jakarta',"
      "               " DK_SQL_TS "),"
      "       to_char(a.finished_at AT TIME ZONE 'Asia/Jakarta',"
      "               " DK_SQL_TS ")"
      "  FROM appointment a JOIN service s ON s.code = a.service"
      " WHERE a.office = $1 AND a.date = $2::date"
      "   AND ($3::text IS NULL OR a.status = $3::text)"
      " ORDER BY a.service, a.queue_number",
      3 },

    /*
     * The next citizen to counter $4: one UPDATE of the row its subquery
     * locks, skipping those another call holds (appointment_call()).  $3:
     * the services, as an array literal.  The citizen the counter called
     * and has not finished, if any, again.  No row: nobody waits.  $6: when
     * the module stops waiting for it, as for a booking: a call that runs
     * after the operator heard 503 calls no one.
     */
    { "dk_counter_call",
      "SELECT a.code, a.queue_number, a.service, s.name, a.name, a.nik,"
      "       a.counter, a.calls"
      "  FROM appointment_call($1, $2::date, $3::text[], $4, $5,"
      "                        to_timestamp($6::bigint / 1000.0)) a"
      "  JOIN service s ON s.code = a.service",
      6, 1 },

    /* $2: 'recall', 'served' or 'absent'; $3 the operator; $4 as above */
    { "dk_counter_step",
      "SELECT outcome, status, calls, counter"
      "  FROM appointment_counter_step($1, $2, $3,"
      "                                to_timestamp($4::bigint / 1000.0))",
      4, 1 },

    /*
     * The waiting-room display: $1 the office, $2 today (WIB), $3 now as
     * nginx tells it.  The day's last 10 calls, recalls included, from
     * the index of the calls (appointment_history_calls); no name, no code.
     */
    { "dk_display",
      "SELECT json_build_object("
      "    'office', o.code, 'office_name', o.name, 'now', $3::text,"
      "    'calls', COALESCE((SELECT json_agg(json_build_object("
      "        'queue_number', a.queue_number, 'service', a.service,"
      "        'service_name', s.name, 'counter', h.counter,"
      "        'called_at', to_char(h.at AT TIME ZONE 'Asia/Jakarta',"
      "                             " DK_SQL_TS "),"
      "        'calls', (SELECT count(*) FROM appointment_history p"
      "                   WHERE p.appointment_id = h.appointment_id"
      "                     AND p.to_status = 'called' AND p.id <= h.id))"
      "        ORDER BY h.at DESC, h.id DESC)"
      "      FROM (SELECT * FROM appointment_history x"
      "             WHERE x.office = $1 AND x.to_status = 'called'"
      "               AND x.at >= $2::date::timestamp"
      "                           AT TIME ZONE 'Asia/Jakarta'"
      "             ORDER BY x.at DESC, x.id DESC LIMIT 10) h"
      "      JOIN appointment a ON a.id = h.appointment_id"
      "      JOIN service s ON s.code = a.service), '[]'::json))"
      "  FROM office o WHERE o.code = $1",
      3 },

    /*
     * The back office (sql/014_ops_stats.sql).  The worklist: $1 a status
     * or NULL, $2 an office or NULL, after the id $3, $4 + 1 rows (the one
     * more says another page follows).
     */
    { "dk_ops_applications",
      "SELECT a.id, a.code, a.service, s.name, a.status, a.name, a.nik,"
      "       a.delivery_method,"
      "       application_office(a.pickup_office, a.kecamatan_code),"
      "       to_char(a.created_at AT TIME ZONE 'Asia/Jakarta',"
      "               " DK_SQL_TS "),"
      "       to_char(a.updated_at AT TIME ZONE 'Asia/Jakarta',"
      "               " DK_SQL_TS ")"
      "  FROM application a JOIN service s ON s.code = a.service"
      " WHERE ($1::text IS NULL OR a.status = $1::text)"
      "   AND ($2::text IS NULL"
      "        OR application_office(a.pickup_office, a.kecamatan_code)"
      "           = $2::text)"
      "   AND a.id > $3::bigint"
      " ORDER BY a.id LIMIT $4::integer + 1",
      4 },

    /*
     * One application for its operator: the address in full, the history
     * with its actors; the NIK apart, for the module masks it.
     */
    { "dk_ops_application",
      "SELECT json_build_object("
      "    'code', a.code, 'service', a.service, 'service_name', s.name,"
      "    'status', a.status, 'name', a.name,"
      "    'delivery_method', a.delivery_method,"
      "    'office', application_office(a.pickup_office, a.kecamatan_code),"
      "    'pickup_office', a.pickup_office,"
      "    'address', CASE WHEN a.street IS NOT NULL THEN json_build_object("
      "        'street', a.street, 'rt', a.rt, 'rw', a.rw,"
      "        'kelurahan', a.kelurahan,"
      "        'kecamatan_written', a.kecamatan_written,"
      "        'postal_code', a.postal_code,"
      "        'kecamatan_code', a.kecamatan_code, 'kecamatan', k.name,"
      "        'needs_confirmation', a.kecamatan_needs_confirmation) END,"
      "    'delivery', (SELECT json_build_object("
      "        'status', d.status, 'tracking_number', d.resi,"
      "        'batch', b.code, 'attempts', d.attempts)"
      "      FROM delivery d JOIN delivery_batch b ON b.id = d.batch_id"
      "     WHERE d.application_id = a.id),"
      "    'submitted_at', to_char(a.created_at AT TIME ZONE 'Asia/Jakarta',"
      "                            " DK_SQL_TS "),"
      "    'updated_at', to_char(a.updated_at AT TIME ZONE 'Asia/Jakarta',"
      "                          " DK_SQL_TS "),"
      "    'history', (SELECT json_agg(json_build_object("
      "        'at', to_char(h.at AT TIME ZONE 'Asia/Jakarta',"
      "                      " DK_SQL_TS "),"
      "        'from_status', h.from_status, 'status', h.to_status,"
      "        'actor', h.actor, 'note', h.note) ORDER BY h.id)"
      "      FROM application_history h WHERE h.application_id = a.id)),"
      "    a.nik"
      "  FROM application a JOIN service s ON s.code = a.service"
      "  LEFT JOIN kecamatan k ON k.code = a.kecamatan_code"
      " WHERE a.code = $1",
      1 },

    /* $1 today (WIB): the current period's budget and its last batches */
    { "dk_ops_delivery",
      "SELECT ops_delivery($1::date, 200)",
      1 },

    /*
     * $1, $2 the range; $3 the offices; $4, $5 the services enabled and
     * their default quotas; $6 the weekdays closed (bit 0 Sunday); $7
     * today (WIB), for the budget's period.
     */
    { "dk_ops_stats",
      "SELECT ops_stats($1::date, $2::date, $3::text[], $4::text[],"
      "                 $5::integer[], $6::integer, $7::date)",
      7 },
};


const ngx_uint_t  ngx_http_dukcapil_nstatements =
    sizeof(ngx_http_dukcapil_statements)
    / sizeof(ngx_http_dukcapil_statement_t);
