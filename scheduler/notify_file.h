/*
 * The file channel: one JSON line per message, {"id","to","channel","kind",
 * "text","created_at"}, appended to a file (make run's var/messages.jsonl,
 * where a person trying the stack reads the codes).
 */
#ifndef DK_NOTIFY_FILE_H
#define DK_NOTIFY_FILE_H

#include <stddef.h>

#include "notify_message.h"

/* Appends a line for each message of the list, then syncs the file: DK_OK
 * when every line is on disk, else DK_ERR with why (then none is taken as
 * sent, and a line may come twice). */
int dk_file_append(const char *path, const dk_message_t *list, char *why,
                   size_t whylen);

#endif
