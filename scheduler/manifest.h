/*
 * The courier's manifests of the delivery-batch: a CSV file a batch in the
 * outbox folder, derived from the batch's rows.
 */
#ifndef DK_MANIFEST_H
#define DK_MANIFEST_H

#include <stddef.h>

#include "job.h"

/* The batches whose manifest is not in the outbox: never written (a crash
 * between the claim and the files) or lost since. *ids is malloc'ed. */
int dk_manifests_missing(dk_job_t *job, long long **ids, size_t *count);

/* Writes the manifests of ids[0..count) and records them written; stops at
 * a safe point on SIGTERM (the rest are the next run's). */
int dk_manifests_write(dk_job_t *job, const long long *ids, size_t count,
                       long long *written);

/* Removes the temporary files a run that died while writing left. */
void dk_manifests_clean(const dk_config_t *cfg);

#endif
