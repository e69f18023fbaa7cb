#include <string.h>

#include "keys.h"
#include "wib.h"

static const char *const dk_day_key_suffix[DK_DAY_KEYS] = {
    [DK_DAY_COUNTS] = "day",
    [DK_DAY_ADMISSIONS] = "adm",
    [DK_DAY_NIKS] = "nik",
    [DK_DAY_PHONES] = "phone",
};

/* the keys are made on the busiest path there is: by copies, no format */
static char *
dk_key_put(char *p, const char *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}

int
dk_key_day(char *out, size_t size, const char *office, size_t office_len,
           const char *date, dk_day_key part)
{
    size_t suffix, len;
    char *p;

    if ((unsigned)part >= DK_DAY_KEYS || office_len > 32)
        return -1;
    if (part == DK_DAY_PHONES)
        office_len = 0;
    suffix = strlen(dk_day_key_suffix[part]);
    len = 4 + office_len + (office_len > 0) + DK_DATE_LEN + 2 + suffix;
    if (len >= size)
        return -1;
    p = dk_key_put(out, "dk:{", 4);
    if (office_len > 0) {
        p = dk_key_put(p, office, office_len);
        *p++ = ':';
    }
    p = dk_key_put(p, date, DK_DATE_LEN);
    p = dk_key_put(p, "}:", 2);
    p = dk_key_put(p, dk_day_key_suffix[part], suffix);
    *p = '\0';
    return (int)len;
}

int
dk_key_bar(char *out, size_t size, const char *nik)
{
    size_t n = sizeof(DK_KEY_BAR_PREFIX) - 1;

    if (n + 16 >= size)
        return -1;
    dk_key_put(dk_key_put(out, DK_KEY_BAR_PREFIX, n), nik, 16)[0] = '\0';
    return (int)(n + 16);
}

int
dk_key_phone_bar(char *out, size_t size, const char *phone, size_t len)
{
    size_t n = sizeof(DK_KEY_PHONE_BAR_PREFIX) - 1;

    if (len == 0 || len > 16 || n + len >= size)
        return -1;
    dk_key_put(dk_key_put(out, DK_KEY_PHONE_BAR_PREFIX, n), phone, len)[0] =
        '\0';
    return (int)(n + len);
}

const char *
dk_key_bar_phone(const char *key, size_t len)
{
    size_t n = sizeof(DK_KEY_PHONE_BAR_PREFIX) - 1;

    if (len <= n + 1 || len > n + 16 ||
        memcmp(key, DK_KEY_PHONE_BAR_PREFIX, n) != 0 || key[n] != '+')
        return NULL;
    return key + n;
}

int
dk_key_otp(char *out, size_t size, dk_otp_key part, const char *s, size_t len)
{
    static const char *const infix[DK_OTP_KEYS] = {
        [DK_OTP_CODE] = "",
        [DK_OTP_HOUR] = "h:",
        [DK_OTP_DAY] = "d:",
        [DK_OTP_BUDGET] = "budget:",
    };
    size_t n = sizeof(DK_KEY_OTP_PREFIX) - 1, i;

    if ((unsigned)part >= DK_OTP_KEYS || len > 40)
        return -1;
    i = strlen(infix[part]);
    if (n + i + len >= size)
        return -1;
    dk_key_put(
        dk_key_put(dk_key_put(out, DK_KEY_OTP_PREFIX, n), infix[part], i), s,
        len)[0] = '\0';
    return (int)(n + i + len);
}

int
dk_key_field(char *out, size_t size, dk_day_field field, const char *service,
             size_t service_len)
{
    if (service_len > 32 || service_len + 2 >= size)
        return -1;
    out[0] = (char)field;
    out[1] = ':';
    dk_key_put(out + 2, service, service_len)[0] = '\0';
    return (int)(service_len + 2);
}

const char *
dk_key_day_date(const char *key, size_t len)
{
    const char *close;

    /* "dk:{", an office of one byte at least and ":", or none, the date,
     * "}" */
    if (len < 4 + DK_DATE_LEN + 1 || memcmp(key, "dk:{", 4) != 0)
        return NULL;
    close = memchr(key, '}', len);
    if (close == NULL || close - key < 4 + DK_DATE_LEN)
        return NULL;
    if (close - key > 4 + DK_DATE_LEN &&
        (close - key < 4 + 1 + 1 + DK_DATE_LEN ||
         close[-DK_DATE_LEN - 1] != ':'))
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
    return ((int64_t)day + 8) * 86400 - DK_WIB_OFFSET;
}

long
dk_quota_effective(long override, long configured, int closed_weekday,
                   dk_calendar calendar)
{
    if (calendar == DK_CALENDAR_CLOSED)
        return 0;
    if (override >= 0)
        return override;
    return closed_weekday && calendar != DK_CALENDAR_OPENED ? 0 : configured;
}

int
dk_day_bookable(int closed_weekday, dk_calendar calendar)
{
    if (calendar == DK_CALENDAR_CLOSED)
        return 0;
    return !closed_weekday || calendar == DK_CALENDAR_OPENED;
}
