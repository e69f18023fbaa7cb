/*
 * The code of each job, by id: above every job (job.c runs whichever it is
 * handed, and the jobs count through it), below the daemon and the command
 * line that pick one.
 */
#include "import.h"
#include "import_holidays.h"
#include "job_delivery.h"
#include "job_reconcile.h"
#include "job_reminder.h"
#include "jobs.h"

static const dk_job_handler_t dk_job_handlers[DK_JOB_COUNT] = {
    [DK_JOB_DELIVERY_BATCH] = dk_delivery_batch,
    [DK_JOB_RECONCILE] = dk_reconcile,
    [DK_JOB_IMPORT_DELIVERY] = dk_import_delivery,
    [DK_JOB_IMPORT_HOLIDAYS] = dk_import_holidays,
    [DK_JOB_REMINDER] = dk_reminder,
};

dk_job_handler_t
dk_job_handler(dk_job_id_t id)
{
    return dk_job_handlers[id];
}
