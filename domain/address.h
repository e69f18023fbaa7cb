/*
 * Delivery addresses in Kota Pekanbaru, and the kecamatan they belong to.
 *
 * Addresses written before the 2020-22 split still name Tampan, Rumbai
 * Pesisir or the old Rumbai; the kelurahan (or failing that the postal code)
 * tells which of today's kecamatan is meant. Names match ignoring case,
 * spaces, dots, dashes and a leading "Kec."/"Kecamatan"/"Kel."/"Kelurahan".
 */
#ifndef DK_ADDRESS_H
#define DK_ADDRESS_H

#include <stddef.h>

/* The fields as received; none needs to be NUL-terminated, a missing one is
 * NULL with length 0. */
typedef struct {
    const char *street; /* a letter and a house number, 3..200 bytes */
    size_t street_len;
    const char *rt; /* "1", "001", "RT 001", "RT.01": value 1..999 */
    size_t rt_len;
    const char *rw; /* the same, with "RW" */
    size_t rw_len;
    const char *kelurahan;
    size_t kelurahan_len;
    const char *kecamatan;
    size_t kecamatan_len;
    const char *postal_code; /* 5 digits, 28111..28299 */
    size_t postal_code_len;
} dk_address_t;

typedef struct {
    /* NULL when valid; else "street", "rt", "rw", "kelurahan", "kecamatan"
     * or "postal_code" */
    const char *field;
    const char *kecamatan_code; /* "14.71.08"; NULL when undecided */
    const char *kecamatan_name; /* today's official name; NULL likewise */
    /* 1: accepted, but an operator must confirm the kecamatan (unknown
     * kelurahan, or an old name that nothing decides) */
    int needs_confirmation;
    char rt[4], rw[4]; /* "001" */
} dk_address_result_t;

/* Returns 0 with res filled in, or -1 with res->field naming the first field
 * at fault. Fields are trimmed of ASCII spaces and tabs before the checks. */
int dk_address_check(const dk_address_t *a, dk_address_result_t *res);

/* Today's name of the kecamatan with this code ("14.71.08"), NULL if
 * unknown. */
const char *dk_kecamatan_name(const char *code);

/* The code of the kecamatan an operator confirms: today's name (as
 * name_eq compares, with or without "Kecamatan"/"Kec.") or its code
 * "14.71.08"; NULL for anything else, an old name such as "Tampan" too,
 * since that is what needed confirming. len bytes are read, no NUL needed. */
const char *dk_kecamatan_find(const char *s, size_t len);

#endif
