/*
 * Return codes shared by every part of the scheduler, and the context that
 * carries the reason of a failure up to the caller (hiredis's err/errstr).
 */
#ifndef DK_STATUS_H
#define DK_STATUS_H

#define DK_OK 0
#define DK_ERR -1
/* the job is running elsewhere (or a stream has ended) */
#define DK_BUSY 1
/* nothing to do: the slot has been run already */
#define DK_DONE 2

#define DK_ERRSTR_LEN 512

typedef struct {
    char str[DK_ERRSTR_LEN];
} dk_err_t;

/* Formats the reason into err and returns DK_ERR, so that a failing path
 * reads "return dk_err_set(err, ...);". */
int dk_err_set(dk_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
