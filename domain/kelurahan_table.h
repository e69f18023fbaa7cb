/*
 * The compiled-in list of Kota Pekanbaru's kecamatan and kelurahan
 * (kelurahan_table.c); address.c is its reader.
 */
#ifndef DK_KELURAHAN_TABLE_H
#define DK_KELURAHAN_TABLE_H

#include <stddef.h>

typedef struct {
    const char *code; /* "14.71.08" */
    const char *name; /* today's official name */
} dk_kecamatan_t;

typedef struct {
    const char *code; /* "14.71.08.1001" */
    const char *name;
    unsigned char kecamatan; /* index into dk_kecamatan_table */
    /* the kecamatan's name before the 2020-22 split, as addresses still
     * write it; equal to today's where nothing changed */
    const char *kecamatan_before_split;
    const char *postal_code;
} dk_kelurahan_t;

extern const dk_kecamatan_t dk_kecamatan_table[];
extern const size_t dk_kecamatan_count;
extern const dk_kelurahan_t dk_kelurahan_table[];
extern const size_t dk_kelurahan_count;

#endif
