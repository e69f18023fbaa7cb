#include "notify_policy.h"

dk_try_t
dk_notify_try_outcome(long http_status)
{
    if (http_status >= 200 && http_status <= 299)
        return DK_TRY_SENT;
    if (http_status == 0 || http_status == 429 || http_status >= 500)
        return DK_TRY_RETRY;
    return DK_TRY_FAILED;
}

dk_next_t
dk_notify_next(dk_try_t outcome, int whatsapp, int attempts, int max_attempts)
{
    if (outcome == DK_TRY_SENT)
        return DK_NEXT_SENT;
    if (outcome == DK_TRY_RETRY && attempts < max_attempts)
        return DK_NEXT_RETRY;
    return whatsapp ? DK_NEXT_FALLBACK : DK_NEXT_FAILED;
}

long
dk_notify_backoff_ms(int attempts, long base_ms, long max_ms, double u)
{
    long d = base_ms;
    int i;

    if (u < 0 || u >= 1)
        u = 0;
    for (i = 1; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    return d / 2 + (long)((double)(d - d / 2) * u);
}
