/*
 * Every function of domain/ that reads what a citizen, an operator or a
 * client sent: the first byte picks one (a letter, so that a seed reads
 * "n1471011203900001"; any other byte picks by its value), the rest is its
 * input. Beyond not crashing, what each accepts must keep its promise: a NIK
 * is 16 digits, a phone normalizes to itself, a date prints back as it was
 * read, text is UTF-8 as glibc decodes it, a mask hides what it must, a
 * budget period holds its day and the next one starts the day after.
 */
#include <locale.h>
#include <string.h>
#include <wchar.h>

#include "address.h"
#include "budget.h"
#include "csv.h"
#include "fuzz.h"
#include "keys.h"
#include "mask.h"
#include "name.h"
#include "nik.h"
#include "phone.h"
#include "wib.h"

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

/* out is what dk_mask wrote for s: the first head and last tail bytes of a
 * long enough s, stars elsewhere, truncated to outlen - 1 bytes. */
static void
check_mask(const char *s, size_t len, size_t head, size_t tail, const char *out,
           size_t outlen)
{
    size_t i, n = len < outlen - 1 ? len : outlen - 1;

    CHECK(out[n] == '\0');
    for (i = 0; i < n; i++) {
        if (len > head + tail && (i < head || i >= len - tail))
            CHECK(out[i] == s[i]);
        else
            CHECK(out[i] == '*');
    }
}

static void
fuzz_nik(const char *s, size_t len)
{
    char out[32];

    if (dk_nik_valid(s, len) == 0)
        CHECK(len == 16 && all_digits(s, len));
    if (dk_kk_valid(s, len) == 0)
        CHECK(len == 16 && all_digits(s, len));
    dk_mask_id(s, len, out, sizeof(out));
    check_mask(s, len, 4, 4, out, sizeof(out));
}

static void
fuzz_phone(const char *s, size_t len)
{
    char out[DK_PHONE_MAX], again[DK_PHONE_MAX], masked[DK_PHONE_MAX];
    int n = dk_phone_normalize(s, len, out);

    if (n < 0)
        return;
    CHECK((size_t)n == strlen(out));
    CHECK(n >= 3 + 9 && n <= 3 + 12);
    CHECK(memcmp(out, "+628", 4) == 0 && out[4] != '0' && out[4] != '4');
    CHECK(all_digits(out + 1, (size_t)n - 1));
    CHECK(dk_phone_normalize(out, (size_t)n, again) == n);
    CHECK(strcmp(out, again) == 0);
    dk_phone_mask(out, (size_t)n, masked, sizeof(masked));
    check_mask(out, (size_t)n, 6, 4, masked, sizeof(masked));
}

/* the spaces of domain/name.c: text made only of them is empty */
static int
is_space(wchar_t cp)
{
    return cp == ' ' || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200b) || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000 || cp == 0xfeff;
}

/* dk_text_valid by glibc's UTF-8 decoder (which takes code points above
 * U+10FFFF too: they are refused here). */
static int
text_valid_by_glibc(const char *s, size_t len, size_t max)
{
    mbstate_t st;
    size_t i = 0, count = 0, n;
    wchar_t wc;
    int visible = 0;

    memset(&st, 0, sizeof(st));
    if (len == 0)
        return -1;
    while (i < len) {
        n = mbrtowc(&wc, s + i, len - i, &st);
        if (n == (size_t)-1 || n == (size_t)-2)
            return -1;
        if (n == 0) /* a NUL */
            return -1;
        if ((unsigned long)wc > 0x10ffff || wc < 0x20 ||
            (wc >= 0x7f && wc <= 0x9f) || ++count > max)
            return -1;
        if (!is_space(wc))
            visible = 1;
        i += n;
    }
    return visible ? 0 : -1;
}

static void
fuzz_text(const char *s, size_t len)
{
    const char *t = s;
    size_t n, max = len > 0 ? (unsigned char)s[0] % 8 + 1 : 1;

    CHECK(dk_name_valid(s, len) == text_valid_by_glibc(s, len, 100));
    CHECK(dk_text_valid(s, len, max) == text_valid_by_glibc(s, len, max));

    n = dk_trim(&t, len);
    CHECK(t >= s && t + n <= s + len);
    if (n > 0) {
        CHECK(t[0] != ' ' && t[0] != '\t');
        CHECK(t[n - 1] != ' ' && t[n - 1] != '\t');
    }
}

/* The fields of an address, one per line: street, RT, RW, kelurahan,
 * kecamatan, postal code; a field not there is NULL. */
static void
fuzz_address(const char *s, size_t len)
{
    static const char *const fields[] = {
        "street", "rt", "rw", "kelurahan", "kecamatan", "postal_code"};
    const char *f[6] = {NULL};
    size_t flen[6] = {0}, i, k = 0;
    const char *p = s, *end = s + len, *nl;
    dk_address_t a;
    dk_address_result_t res;

    while (k < 6 && p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        f[k] = p;
        flen[k] = (size_t)((nl ? nl : end) - p);
        k++;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    a.street = f[0];
    a.street_len = flen[0];
    a.rt = f[1];
    a.rt_len = flen[1];
    a.rw = f[2];
    a.rw_len = flen[2];
    a.kelurahan = f[3];
    a.kelurahan_len = flen[3];
    a.kecamatan = f[4];
    a.kecamatan_len = flen[4];
    a.postal_code = f[5];
    a.postal_code_len = flen[5];

    if (dk_address_check(&a, &res) != 0) {
        CHECK(res.field != NULL && res.kecamatan_code == NULL);
        for (i = 0; i < 6 && strcmp(res.field, fields[i]) != 0; i++)
            ;
        CHECK(i < 6);
        return;
    }
    CHECK(res.field == NULL);
    CHECK(strlen(res.rt) == 3 && all_digits(res.rt, 3));
    CHECK(strcmp(res.rt, "000") != 0);
    CHECK(strlen(res.rw) == 3 && all_digits(res.rw, 3));
    CHECK(strcmp(res.rw, "000") != 0);
    CHECK(res.needs_confirmation || res.kecamatan_code != NULL);
    if (res.kecamatan_code != NULL) {
        const char *name = dk_kecamatan_name(res.kecamatan_code);

        CHECK(name != NULL && strcmp(name, res.kecamatan_name) == 0);
    }
}

/* dk_kecamatan_name on what may be a code. */
static void
fuzz_kecamatan_name(const char *s, size_t len)
{
    char code[32];
    const char *name;

    if (len >= sizeof(code))
        return;
    memcpy(code, s, len);
    code[len] = '\0';
    name = dk_kecamatan_name(code);
    if (name != NULL)
        CHECK(strlen(code) == 8 && memcmp(code, "14.71.", 6) == 0);
}

/* An operator's kecamatan: only ever one of today's codes. */
static void
fuzz_kecamatan_find(const char *s, size_t len)
{
    const char *code = dk_kecamatan_find(s, len);

    if (code != NULL)
        CHECK(dk_kecamatan_name(code) != NULL);
}

/* "MM-DD", a length and a day: the period holds the day, and the next
 * period begins the day after it ends. */
static void
fuzz_budget(const char *s, size_t len)
{
    static const int months[] = {1, 2, 3, 4, 6, 12};
    dk_budget_rule_t rule;
    int32_t day, first, last, next_first, next_last;
    int level;

    if (len < 9 || dk_budget_start_parse(s, 5, &rule) != 0)
        return;
    CHECK(rule.start_month >= 1 && rule.start_month <= 12);
    CHECK(rule.start_day >= 1 && rule.start_day <= 28);
    rule.months = months[(unsigned char)s[5] % 6];
    CHECK(dk_budget_months_valid(rule.months));
    /* a day of years 2000..2199 */
    day = 10957 + (int32_t)(((unsigned char)s[6] << 16 |
                             (unsigned char)s[7] << 8 | (unsigned char)s[8]) %
                            73049);
    dk_budget_period(&rule, day, &first, &last);
    CHECK(first <= day && day <= last);
    CHECK(last - first >= 28 * rule.months - 1 &&
          last - first <= 31 * rule.months);
    dk_budget_period(&rule, last + 1, &next_first, &next_last);
    CHECK(next_first == last + 1);
    level = dk_budget_warn_level((unsigned char)s[6], (unsigned char)s[7]);
    CHECK(level == 0 || level == 80 || level == 95);
}

static void
fuzz_date(const char *s, size_t len)
{
    char out[DK_DATE_LEN + 1];
    int32_t day;
    int64_t unix_s, back;
    char ts[DK_RFC3339_MAX];
    size_t n;

    if (dk_date_parse(s, len, &day) == 0) {
        CHECK(len == DK_DATE_LEN);
        dk_date_format(day, out);
        CHECK(memcmp(out, s, DK_DATE_LEN) == 0);
        CHECK(dk_date_weekday(day) >= 0 && dk_date_weekday(day) <= 6);
        CHECK(dk_wib_today(dk_key_day_expiry(day)) == day + 8);
    }

    /* an RFC 3339 instant prints as WIB and reads back as itself, unless
     * its WIB year is outside 0000..9999 ("0000-01-01T00:00:00+01:00") */
    if (dk_rfc3339_parse(s, len, &unix_s) == 0) {
        n = dk_rfc3339_wib(unix_s * 1000000, ts);
        CHECK(n == strlen(ts));
        if (dk_rfc3339_parse(ts, n, &back) == 0)
            CHECK(back == unix_s);
        else
            CHECK(memcmp(ts, "0000-00-00", 10) == 0);
    }
}

/* Any day and any instant: what is written reads back. */
static void
fuzz_calendar(const char *s, size_t len)
{
    char out[DK_DATE_LEN + 1], ts[DK_RFC3339_MAX];
    int64_t us = 0, back;
    int32_t day, again;
    size_t i, n;

    for (i = 0; i < len && i < 8; i++)
        us = (int64_t)((uint64_t)us << 8 | (unsigned char)s[i]);
    day = (int32_t)us;

    dk_date_format(day, out);
    CHECK(strlen(out) == DK_DATE_LEN);
    if (dk_date_parse(out, DK_DATE_LEN, &again) == 0)
        CHECK(again == day);
    CHECK(dk_date_weekday(day) >= 0 && dk_date_weekday(day) <= 6);
    CHECK(dk_key_day_expiry(day) == ((int64_t)day + 8) * 86400 - 7 * 3600);
    (void)dk_wib_today((time_t)us);

    n = dk_rfc3339_wib(us, ts);
    CHECK(n == strlen(ts) && n == 25);
    if (dk_rfc3339_parse(ts, n, &back) == 0) {
        /* rounded down to the second */
        CHECK(back == us / 1000000 - (us % 1000000 < 0));
    } else {
        CHECK(memcmp(ts, "0000-00-00", 10) == 0);
    }
}

/* dk_mask with a head, tail and room from the first bytes. */
static void
fuzz_mask(const char *s, size_t len)
{
    char out[64];
    size_t head, tail, outlen, n, i, run;

    if (len < 3)
        return;
    head = (unsigned char)s[0] % 20;
    tail = (unsigned char)s[1] % 20;
    outlen = (unsigned char)s[2] % sizeof(out) + 1;
    s += 3;
    len -= 3;
    dk_mask(s, len, head, tail, out, outlen);
    check_mask(s, len, head, tail, out, outlen);

    n = dk_mask_loggable(s, len);
    CHECK(n <= len);
    for (i = 0, run = 0; i < n; i++) {
        run = s[i] >= '0' && s[i] <= '9' ? run + 1 : 0;
        CHECK(run < DK_MASK_DIGITS);
    }
    if (n < len)
        CHECK(len - n >= DK_MASK_DIGITS && all_digits(s + n, DK_MASK_DIGITS));
}

/* OWASP's list, said once more: a formula starts with = @ tab CR, or with
 * + or - when what follows is not a plain number. */
static void
fuzz_csv_formula(const char *s, size_t len)
{
    int want = 0;

    if (len > 0) {
        if (s[0] == '=' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')
            want = 1;
        else if (s[0] == '+' || s[0] == '-')
            want = len == 1 || !all_digits(s + 1, len - 1);
    }
    CHECK(dk_csv_formula(s, len) == want);
}

/* The key builders on an office, a NIK and a service taken from the input,
 * and the key readers on the input itself. */
static void
fuzz_keys(const char *s, size_t len)
{
    char out[DK_KEY_MAX];
    const char *p;
    size_t size, office;
    long override;
    int n, part, closed;
    dk_calendar calendar;

    if (len < 2)
        return;
    size = (unsigned char)s[0] % (DK_KEY_MAX + 1);
    part = (unsigned char)s[1] % (DK_DAY_KEYS + 2);
    s += 2;
    len -= 2;

    p = dk_key_day_date(s, len);
    if (p != NULL)
        CHECK(p > s && p + DK_DATE_LEN < s + len &&
              (p[-1] == ':' || p == s + 4));
    p = dk_key_bar_nik(s, len);
    if (p != NULL)
        CHECK(p == s + 7 && len == 7 + 16);

    office = len;
    n = dk_key_day(out, size, s, office, "2026-12-01", (dk_day_key)part);
    if (n >= 0) {
        CHECK(office <= 32 && (size_t)n < size && out[n] == '\0');
        CHECK(memcmp(out, "dk:{", 4) == 0);
        if (part == DK_DAY_PHONES) {
            /* the date's phones, whatever the office */
            CHECK(memcmp(out + 4, "2026-12-01}", DK_DATE_LEN + 1) == 0);
            CHECK(dk_key_day_date(out, (size_t)n) == out + 4);
        } else {
            CHECK(memcmp(out + 4, s, office) == 0);
            /* the reader takes an office of one byte at least */
            if (office > 0 && memchr(s, '}', office) == NULL) {
                p = dk_key_day_date(out, (size_t)n);
                CHECK(p == out + 4 + office + 1);
                CHECK(memcmp(p, "2026-12-01", DK_DATE_LEN) == 0);
            }
        }
    } else {
        CHECK(office > 32 || part >= DK_DAY_KEYS ||
              4 + (part == DK_DAY_PHONES ? 0 : office + 1) + DK_DATE_LEN + 2 +
                      5 >=
                  size);
    }

    if (len >= 16) {
        n = dk_key_bar(out, size, s);
        if (n >= 0) {
            CHECK(n == 7 + 16 && (size_t)n < size);
            CHECK(dk_key_bar_nik(out, (size_t)n) == out + 7);
            CHECK(memcmp(out + 7, s, 16) == 0);
        }
    }

    n = dk_key_field(out, size, part % 2 ? DK_FIELD_QUOTA : DK_FIELD_QUEUE, s,
                     len);
    if (n >= 0)
        CHECK((size_t)n == len + 2 && len <= 32 && (size_t)n < size);

    /* the quota and calendar rule: a closure wins, then an override, then
     * a closed weekday (unless opened), then the configured quota */
    override = (long)len - 3;
    calendar = (dk_calendar)(size % 3);
    closed = part & 1;
    CHECK(dk_quota_effective(override, 150, closed, calendar) ==
          (calendar == DK_CALENDAR_CLOSED             ? 0
           : override >= 0                            ? override
           : closed && calendar != DK_CALENDAR_OPENED ? 0
                                                      : 150));
    CHECK(dk_day_bookable(closed, calendar) ==
          (calendar != DK_CALENDAR_CLOSED &&
           (!closed || calendar == DK_CALENDAR_OPENED)));
}

static const struct {
    char letter;
    void (*run)(const char *s, size_t len);
} targets[] = {
    {'n', fuzz_nik},      {'p', fuzz_phone},          {'t', fuzz_text},
    {'a', fuzz_address},  {'k', fuzz_kecamatan_name}, {'d', fuzz_date},
    {'D', fuzz_calendar}, {'m', fuzz_mask},           {'c', fuzz_csv_formula},
    {'K', fuzz_keys},     {'f', fuzz_kecamatan_find}, {'b', fuzz_budget},
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i;

    if (size == 0)
        return 0;
    for (i = 0; i < NTARGETS && targets[i].letter != (char)data[0]; i++)
        ;
    if (i == NTARGETS)
        i = data[0] % NTARGETS;
    targets[i].run((const char *)data + 1, size - 1);
    return 0;
}
