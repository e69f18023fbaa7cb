#include <stdio.h>
#include <string.h>

#include "keys.h"
#include "wib.h"

static const char *const dk_day_key_suffix[DK_DAY_KEYS] = {
    [DK_DAY_COUNTS] = "day",
    [DK_DAY_ADMISSIONS] = "adm",
    [DK_DAY_NIKS] = "nik",
    [DK_DAY_PHONES] = "phone",
};

static int
dk_key_fits(int n, size_t size)
{
    return n >= 0 && (size_t)n < size ? n : -1;
}

int
dk_key_day(char *out, size_t size, const char *office, size_t office_len,
           const char *date, dk_day_key part)
{
    if ((unsigned)part >= DK_DAY_KEYS || office_len > 32)
        return -1;
    return dk_key_fits(snprintf(out, size, "dk:{%.*s:%.*s}:%s", (int)office_len,
                                office, DK_DATE_LEN, date,
                                dk_day_key_suffix[part]),
                       size);
}

int
dk_key_bar(char *out, size_t size, const char *nik)
{
    return dk_key_fits(snprintf(out, size, DK_KEY_BAR_PREFIX "%.16s", nik),
                       size);
}

int
dk_key_field(char *out, size_t size, dk_day_field field, const char *service,
             size_t service_len)
{
    if (service_len > 32)
        return -1;
    return dk_key_fits(
        snprintf(out, size, "%c:%.*s", field, (int)service_len, service), size);
}

const char *
dk_key_day_date(const char *key, size_t len)
{
    const char *close;

    /* "dk:{", an office of one byte at least, ":", the date, "}" */
    if (len < 4 + 1 + 1 + DK_DATE_LEN + 1 || memcmp(key, "dk:{", 4) != 0)
        return NULL;
    close = memchr(key, '}', len);
    if (close == NULL || close - key < 4 + 1 + 1 + DK_DATE_LEN ||
        close[-DK_DATE_LEN - 1] != ':')
        return NULL;
    return close - DK_DATE_LEN;
}

const char *
dk_key_bar_nik(const char *key, size_t len)
{
    size_t n = sizeof(DK_KEY_BAR_PREFIX) - 1;

    if (len != n + 16 || memcmp(key, DK_KEY_BAR_PREFIX, n) != 0)
        return NULL;
    return key + n;
}

int64_t
dk_key_day_expiry(int32_t day)
{
    return (int64_t)(day + 8) * 86400 - DK_WIB_OFFSET;
}

long
dk_quota_effective(long override, long configured, int closed_weekday)
{
    if (override >= 0)
        return override;
    return closed_weekday ? 0 : configured;
}
