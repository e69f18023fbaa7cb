/*
 * Which of today's kecamatan an address belongs to.
 *
 * Every old-to-new fact comes from the kecamatan_before_split column of the
 * table: a written kecamatan name stands for today's kecamatan of that name
 * and for every kecamatan now holding a kelurahan that was under that name
 * before the split ("Rumbai" is today's Rumbai and, on older papers, Rumbai
 * Barat; "Tampan" is Binawidya or Tuahmadani). The kelurahan picks one of
 * these candidates; without a known kelurahan the postal code may, but only
 * an operator can be sure.
 */
#include "address.h"

#include <stdint.h>
#include <string.h>

#include "kelurahan_table.h"
#include "name.h"

#define STREET_MIN 3
#define STREET_MAX 200
#define PLACE_MAX_CODEPOINTS 100
#define POSTAL_MIN 28111
#define POSTAL_MAX 28299

static const char *const name_prefixes[] = {"kecamatan", "kelurahan", "kec",
                                            "kel"};

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int
ignorable(char c)
{
    return c == ' ' || c == '\t' || c == '.' || c == '-';
}

/* Length of a leading "Kec."/"Kecamatan"/"Kel."/"Kelurahan" word with its
 * separators; 0 if there is none. The word must be followed by a separator
 * so that no place whose name merely starts with those letters loses them. */
static size_t
prefix_len(const char *s, size_t len)
{
    size_t i, j, n;

    for (i = 0; i < sizeof(name_prefixes) / sizeof(name_prefixes[0]); i++) {
        n = strlen(name_prefixes[i]);
        if (len <= n)
            continue;
        for (j = 0; j < n && lower(s[j]) == name_prefixes[i][j]; j++)
            ;
        if (j < n || !ignorable(s[n]))
            continue;
        while (n < len && ignorable(s[n]))
            n++;
        return n;
    }
    return 0;
}

/* Compares what was written with a name of the table, ignoring case, spaces,
 * dots and dashes: "Tuah Madani" = "tuahmadani", "Lima Puluh" = "Limapuluh". */
static int
name_eq(const char *s, size_t len, const char *name)
{
    size_t i = 0;

    for (;;) {
        while (i < len && ignorable(s[i]))
            i++;
        while (*name != '\0' && ignorable(*name))
            name++;
        if (i == len || *name == '\0')
            return i == len && *name == '\0';
        if (lower(s[i]) != lower(*name))
            return 0;
        i++;
        name++;
    }
}

static int
find_kecamatan(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < dk_kecamatan_count; i++) {
        if (name_eq(s, len, dk_kecamatan_table[i].name))
            return (int)i;
    }
    return -1;
}

static int
find_kelurahan(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < dk_kelurahan_count; i++) {
        if (name_eq(s, len, dk_kelurahan_table[i].name))
            return (int)i;
    }
    return -1;
}

/* The kecamatan (as a bit set of table indexes) a written name may mean. */
static uint32_t
kecamatan_candidates(const char *s, size_t len, int current)
{
    uint32_t set = current >= 0 ? 1u << current : 0;
    size_t i;

    for (i = 0; i < dk_kelurahan_count; i++) {
        if (name_eq(s, len, dk_kelurahan_table[i].kecamatan_before_split))
            set |= 1u << dk_kelurahan_table[i].kecamatan;
    }
    return set;
}

/* The kecamatan whose kelurahan use this postal code; 28261, for one, has
 * two. */
static uint32_t
postal_kecamatan(const char *s, size_t len)
{
    uint32_t set = 0;
    size_t i;

    for (i = 0; i < dk_kelurahan_count; i++) {
        if (memcmp(s, dk_kelurahan_table[i].postal_code, len) == 0)
            set |= 1u << dk_kelurahan_table[i].kecamatan;
    }
    return set;
}

/* The index of the only member of set, or -1. */
static int
single(uint32_t set)
{
    int i;

    if (set == 0 || (set & (set - 1)) != 0)
        return -1;
    for (i = 0; !(set & (1u << i)); i++)
        ;
    return i;
}

static int
street_valid(const char *s, size_t len)
{
    int letter = 0, digit = 0;
    size_t i;

    if (len < STREET_MIN || len > STREET_MAX ||
        dk_text_valid(s, len, STREET_MAX) != 0)
        return 0;
    for (i = 0; i < len; i++) {
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
            letter = 1;
        else if (s[i] >= '0' && s[i] <= '9')
            digit = 1;
    }
    return letter && digit;
}

/* "1", "001", "RT 001", "rt.01" -> "001"; label is "rt" or "rw". */
static int
rt_rw_parse(const char *s, size_t len, const char *label, char out[4])
{
    size_t i = 0, n;
    int v = 0;

    if (len >= 2 && lower(s[0]) == label[0] && lower(s[1]) == label[1]) {
        i = 2;
        if (i < len && s[i] == '.')
            i++;
        while (i < len && s[i] == ' ')
            i++;
    }
    n = len - i;
    if (n < 1 || n > 3)
        return 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1)
        return 0;
    out[0] = (char)('0' + v / 100);
    out[1] = (char)('0' + v / 10 % 10);
    out[2] = (char)('0' + v % 10);
    out[3] = '\0';
    return 1;
}

static int
postal_valid(const char *s, size_t len)
{
    size_t i;
    long v = 0;

    if (len != 5)
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v >= POSTAL_MIN && v <= POSTAL_MAX;
}

static int
fail(dk_address_result_t *res, const char *field)
{
    res->field = field;
    res->kecamatan_code = NULL;
    res->kecamatan_name = NULL;
    res->needs_confirmation = 0;
    return -1;
}

static void
decide(dk_address_result_t *res, int kecamatan)
{
    if (kecamatan < 0)
        return;
    res->kecamatan_code = dk_kecamatan_table[kecamatan].code;
    res->kecamatan_name = dk_kecamatan_table[kecamatan].name;
}

int
dk_address_check(const dk_address_t *a, dk_address_result_t *res)
{
    const char *street = a->street, *rt = a->rt, *rw = a->rw;
    const char *kel = a->kelurahan, *kec = a->kecamatan;
    const char *postal = a->postal_code;
    size_t street_len, rt_len, rw_len, kel_len, kec_len, postal_len, p;
    int current, k;
    uint32_t candidates;

    memset(res, 0, sizeof(*res));

    street_len = dk_trim(&street, street ? a->street_len : 0);
    rt_len = dk_trim(&rt, rt ? a->rt_len : 0);
    rw_len = dk_trim(&rw, rw ? a->rw_len : 0);
    kel_len = dk_trim(&kel, kel ? a->kelurahan_len : 0);
    kec_len = dk_trim(&kec, kec ? a->kecamatan_len : 0);
    postal_len = dk_trim(&postal, postal ? a->postal_code_len : 0);

    if (!street_valid(street, street_len))
        return fail(res, "street");
    if (!rt_rw_parse(rt, rt_len, "rt", res->rt))
        return fail(res, "rt");
    if (!rt_rw_parse(rw, rw_len, "rw", res->rw))
        return fail(res, "rw");
    if (dk_text_valid(kel, kel_len, PLACE_MAX_CODEPOINTS) != 0)
        return fail(res, "kelurahan");
    if (dk_text_valid(kec, kec_len, PLACE_MAX_CODEPOINTS) != 0)
        return fail(res, "kecamatan");

    p = prefix_len(kec, kec_len);
    kec += p;
    kec_len -= p;
    current = find_kecamatan(kec, kec_len);
    candidates = kecamatan_candidates(kec, kec_len, current);
    if (candidates == 0)
        return fail(res, "kecamatan");

    if (!postal_valid(postal, postal_len))
        return fail(res, "postal_code");

    p = prefix_len(kel, kel_len);
    k = find_kelurahan(kel + p, kel_len - p);
    if (k >= 0) {
        const dk_kelurahan_t *e = &dk_kelurahan_table[k];

        if (e->kecamatan != current &&
            !name_eq(kec, kec_len, e->kecamatan_before_split))
            return fail(res, "kelurahan");
        decide(res, e->kecamatan);
        return 0;
    }

    /* The list may be stale, so an unknown kelurahan is no error. */
    res->needs_confirmation = 1;
    if (single(candidates) >= 0)
        decide(res, single(candidates));
    else
        decide(res, single(candidates & postal_kecamatan(postal, postal_len)));
    return 0;
}

const char *
dk_kecamatan_name(const char *code)
{
    size_t i;

    if (code == NULL)
        return NULL;
    for (i = 0; i < dk_kecamatan_count; i++) {
        if (strcmp(code, dk_kecamatan_table[i].code) == 0)
            return dk_kecamatan_table[i].name;
    }
    return NULL;
}

const char *
dk_kecamatan_find(const char *s, size_t len)
{
    size_t i, p;
    int k;

    if (s == NULL)
        return NULL;
    len = dk_trim(&s, len);
    for (i = 0; i < dk_kecamatan_count; i++) {
        if (len == strlen(dk_kecamatan_table[i].code) &&
            memcmp(s, dk_kecamatan_table[i].code, len) == 0)
            return dk_kecamatan_table[i].code;
    }
    if (dk_text_valid(s, len, PLACE_MAX_CODEPOINTS) != 0)
        return NULL;
    p = prefix_len(s, len);
    k = find_kecamatan(s + p, len - p);
    return k < 0 ? NULL : dk_kecamatan_table[k].code;
}
