/*
 * import-delivery: the courier's CSV of delivery results, applied in one
 * transaction or not at all.
 */
#ifndef DK_IMPORT_H
#define DK_IMPORT_H

#include "job.h"

/* job->input is the file. A refused file sets job->bad_input. */
int dk_import_delivery(dk_job_t *job);

#endif
