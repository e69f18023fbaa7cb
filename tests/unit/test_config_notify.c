/*
 * The notification section of the scheduler's YAML (scheduler/config.c):
 * what check-config accepts and refuses, naming the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "unit.h"

#define BASE                                                                   \
    "postgres:\n"                                                              \
    "  conninfo: \"dbname=x\"\n"                                               \
    "redis:\n"                                                                 \
    "  address: \"127.0.0.1:6379\"\n"                                          \
    "delivery:\n"                                                              \
    "  outbox_dir: /tmp\n"

struct config_case {
    const char *yaml; /* after BASE (lines 1-6) */
    const char *want; /* NULL: accepted; else in the error */
};

static const struct config_case cases[] = {
    {"", NULL},
    {"notification:\n  channel: file\n  file: /tmp/m.jsonl\n", NULL},
    {"notification:\n  channel: file\n", "needs notification.file"},
    {"notification:\n  channel: http\n  http:\n    url: http://x/\n",
     "needs notification.http.url and .token_file"},
    {"notification:\n  channel: smoke\n", "t.yaml:8:12: expected http or file"},
    {"notification:\n  channel: file\n  file: /tmp/m\n  templates:\n"
     "    otp: \"Kode {code}\"\n",
     NULL},
    {"notification:\n  channel: file\n  file: /tmp/m\n  templates:\n"
     "    otp: \"Kode {code} NIK {nik}\"\n",
     "t.yaml:11:10: unknown placeholder {nik} for kind otp"},
    {"notification:\n  channel: file\n  file: /tmp/m\n  templates:\n"
     "    birthday: \"Selamat\"\n",
     "t.yaml:11:5: unknown key 'notification.templates.birthday'"},
    {"notification:\n  channel: file\n  file: /tmp/m\n  templates:\n"
     "    delivery_failed: \"Ambil di {office_name\"\n",
     "t.yaml:11:22: a '{' left open"},
    {"notification:\n  max_attempts: 0\n", "expected an integer 1..100"},
    {"notification:\n  backoff_base_ms: 5000\n  backoff_max_ms: 1000\n",
     "backoff_max_ms is below"},
    {"notification:\n  http:\n    rate: 0\n", "notification.http.rate"},
    {"notification:\n  otp_valid_seconds: 10\n",
     "expected an integer 30..86400 for 'notification.otp_valid_seconds'"},
    {"jobs:\n  reminder:\n    at: \"18:00\"\n", NULL},
    {"jobs:\n  reminder:\n    at: \"25:00\"\n", "jobs.reminder.at"},
};

static void
notification_section_table_of_cases(void **state)
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
defaults_off_and_every_template(void **state)
{
    dk_config_t cfg;
    dk_err_t err;
    int k;

    (void)state;
    assert_int_equal(
        dk_config_load_buffer(&cfg, "t.yaml", BASE, strlen(BASE), &err), DK_OK);
    assert_int_equal(cfg.notify.channel, DK_CHANNEL_OFF);
    assert_int_equal(cfg.reminder_at, -1);
    assert_int_equal(cfg.notify.max_attempts, 5);
    assert_int_equal(cfg.notify.retention_days, 90);
    assert_int_equal(cfg.notify.otp_valid_seconds, 300);
    for (k = 0; k < DK_NOTIFY_KINDS; k++)
        assert_string_equal(cfg.notify.templates[k],
                            dk_notify_default_template(k));
    dk_config_free(&cfg);
}

static void
token_file_is_read_and_guarded(void **state)
{
    char path[] = "/tmp/dk-unit-token-XXXXXX", yaml[1024];
    dk_config_t cfg;
    dk_err_t err;
    FILE *f;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("abc.DEF-123\n", f);
    fclose(f);
    snprintf(yaml, sizeof(yaml),
             BASE "notification:\n  channel: http\n  http:\n"
                  "    url: http://127.0.0.1:9/v1\n    token_file: %s\n",
             path);
    chmod(path, 0600);
    assert_int_equal(
        dk_config_load_buffer(&cfg, "t.yaml", yaml, strlen(yaml), &err), DK_OK);
    assert_string_equal(cfg.notify.token, "abc.DEF-123");
    assert_int_equal(cfg.notify.channel, DK_CHANNEL_HTTP);
    dk_config_free(&cfg);
    assert_null(cfg.notify.token);

    chmod(path, 0644); /* others may read it: refused */
    assert_int_equal(
        dk_config_load_buffer(&cfg, "t.yaml", yaml, strlen(yaml), &err),
        DK_ERR);
    assert_non_null(strstr(err.str, "notification.http.token_file"));
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notification_section_table_of_cases),
        cmocka_unit_test(defaults_off_and_every_template),
        cmocka_unit_test(token_file_is_read_and_guarded),
    };

    return cmocka_run_group_tests_name("config_notify", tests, NULL, NULL);
}
