/*
 * delivery-batch: completed "post" applications into courier manifests,
 * within the budget of the period and the night's cap.
 */
#ifndef DK_JOB_DELIVERY_H
#define DK_JOB_DELIVERY_H

#include "job.h"

int dk_delivery_batch(dk_job_t *job);

#endif
