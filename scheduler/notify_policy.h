/*
 * What becomes of a message after a try: the meaning of the gateway's answer,
 * the back-off before the next try, the fall-back from WhatsApp to SMS.
 * Pure arithmetic, for the sender and its unit tests.
 */
#ifndef DK_NOTIFY_POLICY_H
#define DK_NOTIFY_POLICY_H

typedef enum {
    DK_TRY_SENT,  /* 2xx */
    DK_TRY_RETRY, /* 429, 5xx, no answer (timeout, connection refused) */
    DK_TRY_FAILED /* any other answer: the gateway refuses this message */
} dk_try_t;

typedef enum {
    DK_NEXT_SENT,
    DK_NEXT_RETRY,    /* the same channel, after the back-off */
    DK_NEXT_FALLBACK, /* WhatsApp gave up: SMS at once, tries counted anew */
    DK_NEXT_FAILED    /* given up for good */
} dk_next_t;

/* An HTTP status, 0 for no answer at all. */
dk_try_t dk_notify_try_outcome(long http_status);

/* After a try of the channel (whatsapp: 1), the attempts-th on it. */
dk_next_t dk_notify_next(dk_try_t outcome, int whatsapp, int attempts,
                         int max_attempts);

/* Milliseconds before the next try after the attempts-th: base * 2^(attempts
 * - 1), at most max_ms; half of it fixed, half scaled by u in [0, 1) (equal
 * jitter), so that messages failed together do not come back together. */
long dk_notify_backoff_ms(int attempts, long base_ms, long max_ms, double u);

#endif
