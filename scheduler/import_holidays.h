/*
 * import-holidays: the government's yearly list of national holidays and
 * cuti bersama closes those dates at every office, all or nothing; the same
 * file again changes nothing.
 */
#ifndef DK_IMPORT_HOLIDAYS_H
#define DK_IMPORT_HOLIDAYS_H

#include "job.h"

/* job->input is the file (domain/holiday.h). A refused file sets
 * job->bad_input. */
int dk_import_holidays(dk_job_t *job);

#endif
