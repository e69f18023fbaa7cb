/*
 * The code of each job, by id.
 */
#ifndef DK_JOBS_H
#define DK_JOBS_H

#include "job.h"

dk_job_handler_t dk_job_handler(dk_job_id_t id);

#endif
