/*
 * Civil-calendar arithmetic after Howard Hinnant's days_from_civil and
 * civil_from_days (proleptic Gregorian, exact for every int32 day), so that
 * no call depends on TZ, timegm(3) or the C library's idea of a zone.
 */
#include "wib.h"

#define SECONDS_PER_DAY 86400

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n ASCII digits; -1 if any byte is not one. */
static int
digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static void
put_digits(char *out, int64_t v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* "YYYY-MM-DD" without NUL; the caller has checked y is in 0..9999. */
static void
put_date(char *out, int64_t y, int m, int d)
{
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
}

/* Parses "YYYY-MM-DD" at s (10 bytes available) into y, m, d. */
static int
parse_date(const char *s, int *y, int *m, int *d)
{
    if (s[4] != '-' || s[7] != '-')
        return -1;
    *y = digits(s, 4);
    *m = digits(s + 5, 2);
    *d = digits(s + 8, 2);
    if (*y < 0 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return -1;
    return 0;
}

int32_t
dk_wib_today(time_t now)
{
    /* now + 7 h would overflow at the end of time_t: the day, then the
     * remainder, which the 7 h move by one day at most */
    int64_t day = (int64_t)now / SECONDS_PER_DAY;
    int64_t rest = (int64_t)now % SECONDS_PER_DAY;

    return (int32_t)(day + floor_div(rest + DK_WIB_OFFSET, SECONDS_PER_DAY));
}

int
dk_date_parse(const char *s, size_t len, int32_t *day)
{
    int y, m, d;

    if (s == NULL || len != DK_DATE_LEN || parse_date(s, &y, &m, &d) != 0)
        return -1;
    if (y < 2000 || y > 2199)
        return -1;
    *day = (int32_t)days_from_civil(y, m, d);
    return 0;
}

void
dk_date_format(int32_t day, char out[DK_DATE_LEN + 1])
{
    int64_t y;
    int m, d;

    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        y = 0;
        m = 0;
        d = 0;
    }
    put_date(out, y, m, d);
    out[DK_DATE_LEN] = '\0';
}

int
dk_date_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday */
    int w = (int)(((int64_t)day + 4) % 7);

    return w < 0 ? w + 7 : w;
}

int32_t
dk_date_make(int year, int month, int mday)
{
    return (int32_t)days_from_civil(year, month, mday);
}

void
dk_date_split(int32_t day, int *year, int *month, int *mday)
{
    int64_t y;

    civil_from_days(day, &y, month, mday);
    *year = (int)y;
}

size_t
dk_rfc3339_wib(int64_t unix_us, char out[DK_RFC3339_MAX])
{
    static const char zone[] = "+07:00";
    int64_t secs, day, sod, y;
    int m, d;
    size_t i;

    secs = floor_div(unix_us, 1000000) + DK_WIB_OFFSET;
    day = floor_div(secs, SECONDS_PER_DAY);
    sod = secs - day * SECONDS_PER_DAY;
    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        y = 0;
        m = 0;
        d = 0;
        sod = 0;
    }

    put_date(out, y, m, d);
    out[10] = 'T';
    put_digits(out + 11, sod / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, sod / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, sod % 60, 2);
    for (i = 0; i < sizeof(zone); i++)
        out[19 + i] = zone[i];
    return 19 + sizeof(zone) - 1;
}

int
dk_rfc3339_parse(const char *s, size_t len, int64_t *unix_s)
{
    int y, m, d, hh, mm, ss, oh, om;
    size_t i;
    int64_t offset = 0;

    /* "YYYY-MM-DDTHH:MM:SS" then at least "Z" */
    if (s == NULL || len < 20 || parse_date(s, &y, &m, &d) != 0)
        return -1;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return -1;
    if (s[13] != ':' || s[16] != ':')
        return -1;
    hh = digits(s + 11, 2);
    mm = digits(s + 14, 2);
    ss = digits(s + 17, 2);
    /* 60 is a leap second; it counts as the next minute's first second */
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return -1;

    i = 19;
    if (s[i] == '.') {
        size_t start = ++i;

        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return -1;
    }

    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (len - i == 6 && (s[i] == '+' || s[i] == '-') &&
               s[i + 3] == ':') {
        oh = digits(s + i + 1, 2);
        om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        offset = (int64_t)oh * 3600 + om * 60;
        if (s[i] == '-')
            offset = -offset;
        i += 6;
    } else {
        return -1;
    }
    if (i != len)
        return -1;

    *unix_s = days_from_civil(y, m, d) * SECONDS_PER_DAY + hh * 3600 + mm * 60 +
              ss - offset;
    return 0;
}
