/*
 * Cells of the CSV files the project writes (the courier's manifests), as a
 * spreadsheet will read them.
 */
#ifndef DK_CSV_H
#define DK_CSV_H

#include <stddef.h>

/* 1 if a spreadsheet would take the cell for a formula (it starts with =,
 * +, -, @, a tab or a carriage return: OWASP's list), so that it must be
 * written with a leading apostrophe; 0 if not. A plain number such as a
 * phone "+6281234567890" or "-5" computes nothing and is left as it is. */
int dk_csv_formula(const char *s, size_t len);

#endif
