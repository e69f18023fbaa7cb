/*
 * NIK layout: PP KK CC DDMMYY SSSS (province, regency, kecamatan, birth date
 * with day + 40 for women, serial). A KK number shares the region part and
 * carries its date of issue in the middle.
 */
#include "nik.h"

#include "mask.h"

#define DK_NIK_LEN 16

static int
all_digits(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

static int
two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static int
region_valid(const char *s)
{
    return two(s) >= 11 && two(s + 2) != 0 && two(s + 4) != 0;
}

static int
serial_valid(const char *s)
{
    return !(s[12] == '0' && s[13] == '0' && s[14] == '0' && s[15] == '0');
}

/* The year has two digits: 19yy or 20yy.  Both are leap years exactly when
 * yy is a multiple of 4 (1900 is not, but 2000 is, so 00 may be). */
static int
days_in_month(int month, int yy)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    return days[month - 1] + (month == 2 && yy % 4 == 0);
}

/* What a NIK and a KK number share: 16 digits, a region, a serial. */
static int
shape_valid(const char *s, size_t len)
{
    return s != NULL && len == DK_NIK_LEN && all_digits(s, len) &&
           region_valid(s) && serial_valid(s);
}

int
dk_nik_valid(const char *s, size_t len)
{
    int day, month;

    if (!shape_valid(s, len))
        return -1;

    day = two(s + 6);
    month = two(s + 8);
    if (day > 40)
        day -= 40;
    if (month < 1 || month > 12 || day < 1 ||
        day > days_in_month(month, two(s + 10)))
        return -1;
    return 0;
}

int
dk_kk_valid(const char *s, size_t len)
{
    int day, month;

    if (!shape_valid(s, len))
        return -1;

    day = two(s + 6);
    month = two(s + 8);
    if (day < 1 || day > 31 || month < 1 || month > 12)
        return -1;
    return 0;
}

void
dk_mask_id(const char *s, size_t len, char *out, size_t outlen)
{
    dk_mask(s, len, 4, 4, out, outlen);
}
