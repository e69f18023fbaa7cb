/*
 * "IP:port" of the configuration (redis.sentinel.addresses): an IPv4
 * address, or an IPv6 one in brackets ("[::1]:26379"), never a host name,
 * which would need DNS at each connect.
 */
#ifndef DK_NET_ADDRESS_H
#define DK_NET_ADDRESS_H

#include <stddef.h>

#include "status.h"

/* The address of s into host (without brackets) and its port, or DK_ERR. */
int dk_address_split(const char *s, char *host, size_t size, int *port);

#endif
