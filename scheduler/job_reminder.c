#include <stdio.h>
#include <stdlib.h>

#include "job_reminder.h"
#include "wib.h"

/* the booked appointments of the day, with what the template of
 * appointment_reminder needs, and whether each has its reminder already */
#define DK_REMINDER_DUE                                                        \
    "WITH due AS ("                                                            \
    " SELECT a.id, a.phone, jsonb_build_object("                               \
    "   'code', a.code, 'date', to_char(a.date, 'YYYY-MM-DD'),"                \
    "   'office_name', o.name, 'service_name', s.name,"                        \
    "   'queue_number', a.queue_number) AS params,"                            \
    "   EXISTS (SELECT 1 FROM notification n WHERE n.appointment_id = a.id"    \
    "           AND n.kind = 'appointment_reminder') AS reminded"              \
    " FROM appointment a JOIN office o ON o.code = a.office"                   \
    " JOIN service s ON s.code = a.service"                                    \
    " WHERE a.date = $1::date AND a.status = 'booked')"

/* the unique index notification_one_reminder makes a second run, or a run
 * of another daemon at the same time, write nothing more */
static const char dk_reminder_sql[] = DK_REMINDER_DUE
    ", written AS ("
    " INSERT INTO notification (kind, phone, params, appointment_id)"
    " SELECT 'appointment_reminder', phone, params, id FROM due"
    " WHERE NOT reminded"
    " ON CONFLICT (appointment_id) WHERE kind = 'appointment_reminder'"
    " DO NOTHING RETURNING 1)"
    " SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM written)";

static const char dk_reminder_plan_sql[] =
    DK_REMINDER_DUE " SELECT count(*), count(*) FILTER (WHERE NOT reminded)"
                    " FROM due";

int
dk_reminder(dk_job_t *job)
{
    char date[DK_DATE_LEN + 1];
    const char *params[] = {date};
    int32_t today = dk_wib_today(dk_clock_now());
    int32_t day =
        dk_wib_today(job->slot >= 0 ? (time_t)job->slot : dk_clock_now()) + 1;
    long long booked, reminders;
    PGresult *res;

    /* a slot run late, after its midnight: the day is today, still ahead */
    if (day < today)
        day = today;
    dk_date_format(day, date);
    if (dk_db_query(job->db, &res,
                    job->dry_run ? dk_reminder_plan_sql : dk_reminder_sql, 1,
                    params) != DK_OK)
        return dk_err_set(&job->err, "%s", job->db->err.str);
    booked = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    reminders = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    dk_job_count_text(job, "date", date);
    dk_job_count(job, "booked", booked);
    dk_job_count(job, "reminders", reminders);
    if (job->dry_run)
        printf("reminder %s: %lld booked, %lld to remind\n", date, booked,
               reminders);
    return DK_OK;
}
