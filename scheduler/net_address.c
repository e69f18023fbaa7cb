#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "net_address.h"

int
dk_address_split(const char *s, char *host, size_t size, int *port)
{
    const char *colon = strrchr(s, ':'), *first = s, *last;
    unsigned char buf[16];
    char *end;
    long p;
    size_t n;

    if (colon == NULL || colon == s)
        return DK_ERR;
    last = colon;
    if (*s == '[') {
        if (colon[-1] != ']')
            return DK_ERR;
        first = s + 1;
        last = colon - 1;
    }
    n = (size_t)(last - first);
    if (n == 0 || n >= size)
        return DK_ERR;
    memcpy(host, first, n);
    host[n] = '\0';
    if (*s == '[' ? inet_pton(AF_INET6, host, buf) != 1
                  : inet_pton(AF_INET, host, buf) != 1)
        return DK_ERR;
    p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
        return DK_ERR;
    *port = (int)p;
    return DK_OK;
}
