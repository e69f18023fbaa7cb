#include "csv.h"

int
dk_csv_formula(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    switch (s[0]) {
    case '=':
    case '@':
    case '\t':
    case '\r':
        return 1;
    case '+':
    case '-':
        if (len == 1)
            return 1;
        for (i = 1; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return 1;
        }
        return 0;
    default:
        return 0;
    }
}
