/*
 * The redis section of the scheduler's YAML (scheduler/config.c): an
 * address, or the Sentinels and the master's name, never both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net_address.h"
#include "config.h"
#include "unit.h"

#define BASE                                                                   \
    "postgres:\n"                                                              \
    "  conninfo: \"dbname=x\"\n"                                               \
    "delivery:\n"                                                              \
    "  outbox_dir: /tmp\n"

struct config_case {
    const char *yaml; /* after BASE (lines 1-4) */
    const char *want; /* NULL: accepted; else in the error */
};

static const struct config_case cases[] = {
    {"redis:\n  address: \"127.0.0.1:6379\"\n", NULL},
    {"redis:\n  sentinel:\n    addresses: [\"10.0.0.1:26379\", "
     "\"10.0.0.2:26379\"]\n    master_name: dukcapil\n",
     NULL},
    {"redis:\n  sentinel:\n    addresses:\n      - 10.0.0.1:26379\n"
     "    master_name: dukcapil\n",
     NULL},
    {"", "redis needs either address or sentinel.addresses (not both)"},
    {"redis:\n  address: \"127.0.0.1:6379\"\n  sentinel:\n"
     "    addresses: [\"10.0.0.1:26379\"]\n    master_name: dukcapil\n",
     "redis needs either address or sentinel.addresses (not both)"},
    {"redis:\n  sentinel:\n    addresses: [\"10.0.0.1:26379\"]\n",
     "redis.sentinel needs both addresses and master_name"},
    {"redis:\n  sentinel:\n    addresses: []\n    master_name: dukcapil\n",
     "t.yaml:7:16: expected a list of host:port for "
     "'redis.sentinel.addresses'"},
    {"redis:\n  sentinel:\n    addresses: 10.0.0.1:26379\n"
     "    master_name: dukcapil\n",
     "expected a list of host:port"},
    {"redis:\n  sentinel:\n    addresses: [\"10.0.0.1\"]\n"
     "    master_name: dukcapil\n",
     "t.yaml:7:17: expected IP:port, not '10.0.0.1'"},
    {"redis:\n  sentinel:\n    addresses: [\"10.0.0.1:0\"]\n"
     "    master_name: dukcapil\n",
     "expected IP:port, not '10.0.0.1:0'"},
    /* IPv6 in brackets, as the module's directive takes it */
    {"redis:\n  sentinel:\n    addresses: [\"[::1]:26379\", "
     "\"127.0.0.1:26380\"]\n    master_name: dukcapil\n",
     NULL},
    /* a host name would need DNS at each connect */
    {"redis:\n  sentinel:\n    addresses: [\"localhost:26379\"]\n"
     "    master_name: dukcapil\n",
     "expected IP:port, not 'localhost:26379'"},
    {"redis:\n  sentinel:\n    addresses: [\"::1:26379\"]\n"
     "    master_name: dukcapil\n",
     "expected IP:port, not '::1:26379'"},
    {"redis:\n  sentinel:\n    addresses: [\"[::1]\"]\n"
     "    master_name: dukcapil\n",
     "expected IP:port, not '[::1]'"},
    {"redis:\n  sentinel:\n    addresses: [\"[10.0.0.1]:26379\"]\n"
     "    master_name: dukcapil\n",
     "expected IP:port, not '[10.0.0.1]:26379'"},
    {"redis:\n  sentinel:\n    addresses: [\"10.0.0.1:26379x\"]\n"
     "    master_name: dukcapil\n",
     "expected IP:port, not '10.0.0.1:26379x'"},
    {"redis:\n  sentinel:\n    addresses: [\"10.0.0.1:26379\"]\n"
     "    master_name: dukcapil\n    quorum: 2\n",
     "unknown key 'redis.sentinel.quorum'"},
};

static void
redis_section_table_of_cases(void **state)
{
    char yaml[2048];
    dk_config_t cfg;
    dk_err_t err;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++) {
        snprintf(yaml, sizeof(yaml), "%s%s", BASE, cases[i].yaml);
        rc = dk_config_load_buffer(&cfg, "t.yaml", yaml, strlen(yaml), &err);
        if (cases[i].want == NULL && rc != DK_OK)
            fail_msg("case %zu refused: %s", i, err.str);
        if (cases[i].want != NULL &&
            (rc == DK_OK || strstr(err.str, cases[i].want) == NULL))
            fail_msg("case %zu: %s, not %s", i, rc == DK_OK ? "ok" : err.str,
                     cases[i].want);
        if (rc == DK_OK)
            dk_config_free(&cfg);
    }
}

static void
sentinels_are_kept_in_order(void **state)
{
    const char *yaml = BASE "redis:\n  sentinel:\n"
                            "    addresses: [\"10.0.0.1:26379\", "
                            "\"10.0.0.2:26380\", \"10.0.0.3:26381\"]\n"
                            "    master_name: dukcapil\n";
    dk_config_t cfg;
    dk_err_t err;

    (void)state;
    assert_int_equal(
        dk_config_load_buffer(&cfg, "t.yaml", yaml, strlen(yaml), &err), DK_OK);
    assert_null(cfg.redis_address);
    assert_int_equal(cfg.redis_nsentinels, 3);
    assert_string_equal(cfg.redis_sentinels[0], "10.0.0.1:26379");
    assert_string_equal(cfg.redis_sentinels[2], "10.0.0.3:26381");
    assert_string_equal(cfg.redis_master_name, "dukcapil");
    assert_null(cfg.sentinel_password);
    dk_config_free(&cfg);
    assert_null(cfg.redis_sentinels);
}

static void
addresses_lose_their_brackets(void **state)
{
    char host[64];
    int port = 0;

    (void)state;
    assert_int_equal(dk_address_split("[::1]:26379", host, sizeof(host), &port),
                     DK_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 26379);
    assert_int_equal(
        dk_address_split("10.20.0.7:26380", host, sizeof(host), &port), DK_OK);
    assert_string_equal(host, "10.20.0.7");
    assert_int_equal(port, 26380);
    assert_int_equal(
        dk_address_split("redis.local:26379", host, sizeof(host), &port),
        DK_ERR);
    assert_int_equal(dk_address_split("[::1:26379", host, sizeof(host), &port),
                     DK_ERR);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redis_section_table_of_cases),
        cmocka_unit_test(sentinels_are_kept_in_order),
        cmocka_unit_test(addresses_lose_their_brackets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
