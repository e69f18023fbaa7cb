/*
 * dukcapil-scheduler: the command line, and the only place that decides the
 * process's exit code.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "delivery_budget.h"
#include "job.h"
#include "jobs.h"
#include "log.h"
#include "redis.h"
#include "redis_sentinel.h"

#define DK_VERSION "1.0.0"
#define DK_DEFAULT_CONFIG "/etc/dukcapil/scheduler.yaml"

/* sysexits(3) where one fits */
enum {
    DK_EXIT_OK = 0,
    DK_EXIT_CONFIG = 1,
    DK_EXIT_USAGE = 2,
    DK_EXIT_DATAERR = 65,
    DK_EXIT_UNAVAILABLE = 69,
    DK_EXIT_SOFTWARE = 70,
    DK_EXIT_TEMPFAIL = 75,
};

#define DK_SYNOPSIS                                                            \
    "usage: dukcapil-scheduler [-c FILE] run\n"                                \
    "       dukcapil-scheduler [-c FILE] once JOB [--dry-run]\n"               \
    "       dukcapil-scheduler [-c FILE] import-delivery CSVFILE "             \
    "[--dry-run]\n"                                                            \
    "       dukcapil-scheduler [-c FILE] import-holidays CSVFILE "             \
    "[--dry-run]\n"                                                            \
    "       dukcapil-scheduler [-c FILE] status\n"                             \
    "       dukcapil-scheduler check-config FILE\n"                            \
    "       dukcapil-scheduler --help | --version\n"

static const char dk_usage_short[] = DK_SYNOPSIS;

static const char dk_usage[] = DK_SYNOPSIS
    "\n"
    "The scheduler of Layanan Online Disdukcapil Kota Pekanbaru: the\n"
    "nightly jobs, and the sender of the citizens' WhatsApp/SMS messages.\n"
    "\n"
    "commands:\n"
    "  run               foreground daemon (systemd Type=notify): each job at\n"
    "                    its WIB time, a slot missed while down once at\n"
    "                    start-up; SIGTERM stops at a safe point, SIGHUP\n"
    "                    reloads FILE (a bad file keeps the old one);\n"
    "                    beside the jobs, sends the citizens' messages of\n"
    "                    the outbox (notification.channel)\n"
    "  once JOB          run one job now: delivery-batch | reconcile |\n"
    "                    reminder\n"
    "  import-delivery CSVFILE\n"
    "                    apply the courier's delivery results (all or none)\n"
    "  import-holidays CSVFILE\n"
    "                    close the dates of the yearly list of national\n"
    "                    holidays and cuti bersama (\"date,name\") at every\n"
    "                    office (all or none), then in Redis at once\n"
    "  status            the delivery budget of today's period: amount,\n"
    "                    used, left, post applications not yet batched\n"
    "  check-config FILE validate the configuration and exit\n"
    "\n"
    "options:\n"
    "  -c FILE           configuration (default " DK_DEFAULT_CONFIG ")\n"
    "  --dry-run         print the plan, write nothing\n"
    "\n"
    "exit codes:\n"
    "  0   done\n"
    "  1   the configuration is invalid\n"
    "  2   wrong command line\n"
    "  65  import-*: the file has bad lines; nothing was imported\n"
    "  69  PostgreSQL or Redis unreachable (or Redis refuses the "
    "credentials)\n"
    "  70  the job failed (see the log and scheduler_run.error)\n"
    "  75  the job is running elsewhere; try again later\n";

typedef struct {
    const char *config;
    const char *command;
    const char *arg;
    int dry_run;
} dk_cli_t;

static int
dk_cli_parse(dk_cli_t *cli, int argc, char **argv)
{
    int i;

    memset(cli, 0, sizeof(*cli));
    cli->config = DK_DEFAULT_CONFIG;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            cli->config = argv[++i];
        else if (strcmp(argv[i], "--dry-run") == 0)
            cli->dry_run = 1;
        else if (argv[i][0] == '-')
            return DK_ERR;
        else if (cli->command == NULL)
            cli->command = argv[i];
        else if (cli->arg == NULL)
            cli->arg = argv[i];
        else
            return DK_ERR;
    }
    return cli->command != NULL ? DK_OK : DK_ERR;
}

static int
dk_load(dk_config_t *cfg, const char *path)
{
    dk_err_t err;

    if (dk_config_load(cfg, path, &err) != DK_OK) {
        fprintf(stderr, "dukcapil-scheduler: %s\n", err.str);
        return DK_ERR;
    }
    return DK_OK;
}

static int
dk_main_job(dk_config_t *cfg, dk_job_id_t id, const char *input, int dry_run)
{
    char q[DK_ERRSTR_LEN + 8];
    dk_db_t db;
    dk_redis_t redis;
    dk_job_t job;
    int rc, code;

    if (dk_db_connect(&db, cfg->conninfo) != DK_OK) {
        dk_log_error("postgres_unavailable", "error=%s",
                     dk_log_quote(db.err.str, q, sizeof(q)));
        return DK_EXIT_UNAVAILABLE;
    }
    memset(&redis, 0, sizeof(redis));
    if ((id == DK_JOB_RECONCILE ||
         (id == DK_JOB_IMPORT_HOLIDAYS && !dry_run)) &&
        dk_redis_open(&redis, cfg) != DK_OK) {
        dk_log_error(redis.auth_refused ? "redis_auth_failed"
                                        : "redis_unavailable",
                     "error=%s", dk_log_quote(redis.err.str, q, sizeof(q)));
        dk_db_close(&db);
        return DK_EXIT_UNAVAILABLE;
    }

    memset(&job, 0, sizeof(job));
    job.id = id;
    job.handler = dk_job_handler(id);
    job.cfg = cfg;
    job.db = &db;
    job.redis = &redis;
    job.dry_run = dry_run;
    job.input = input;
    job.trigger = id == DK_JOB_IMPORT_DELIVERY || id == DK_JOB_IMPORT_HOLIDAYS
                      ? "import"
                      : "once";
    rc = dk_job_run(&job, -1);

    if (rc == DK_BUSY) {
        fprintf(stderr,
                "dukcapil-scheduler: %s is running elsewhere; try again "
                "later\n",
                dk_job_name(id));
        code = DK_EXIT_TEMPFAIL;
    } else if (rc == DK_OK) {
        code = DK_EXIT_OK;
    } else {
        if (job.run_id == 0 || dry_run)
            fprintf(stderr, "dukcapil-scheduler: %s: %s\n", dk_job_name(id),
                    job.err.str);
        code = job.bad_input ? DK_EXIT_DATAERR : DK_EXIT_SOFTWARE;
    }
    json_decref(job.counts);
    dk_redis_close(&redis);
    dk_db_close(&db);
    return code;
}

static int
dk_main_status(dk_config_t *cfg)
{
    char q[DK_ERRSTR_LEN + 8];
    dk_err_t err;
    dk_db_t db;
    int rc;

    if (dk_db_connect(&db, cfg->conninfo) != DK_OK) {
        dk_log_error("postgres_unavailable", "error=%s",
                     dk_log_quote(db.err.str, q, sizeof(q)));
        return DK_EXIT_UNAVAILABLE;
    }
    rc = dk_budget_print(&db, cfg, dk_wib_today(dk_clock_now()), stdout, &err);
    if (rc != DK_OK)
        fprintf(stderr, "dukcapil-scheduler: status: %s\n", err.str);
    dk_db_close(&db);
    return rc == DK_OK ? DK_EXIT_OK : DK_EXIT_SOFTWARE;
}

int
main(int argc, char **argv)
{
    dk_config_t cfg;
    dk_cli_t cli;
    dk_job_id_t id;
    int code;

    if (argc == 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(dk_usage, stdout);
        return DK_EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        puts("dukcapil-scheduler " DK_VERSION);
        return DK_EXIT_OK;
    }
    if (dk_cli_parse(&cli, argc, argv) != DK_OK) {
        fputs(dk_usage_short, stderr);
        return DK_EXIT_USAGE;
    }

    if (strcmp(cli.command, "check-config") == 0) {
        if (cli.arg == NULL || cli.dry_run) {
            fputs(dk_usage_short, stderr);
            return DK_EXIT_USAGE;
        }
        if (dk_load(&cfg, cli.arg) != DK_OK)
            return DK_EXIT_CONFIG;
        printf("%s: ok\n", cli.arg);
        dk_config_free(&cfg);
        return DK_EXIT_OK;
    }

    if (strcmp(cli.command, "run") == 0 && cli.arg == NULL && !cli.dry_run) {
        if (dk_load(&cfg, cli.config) != DK_OK)
            return DK_EXIT_CONFIG;
        dk_signals_install();
        return dk_daemon_run(cli.config, &cfg) == DK_OK ? DK_EXIT_OK
                                                        : DK_EXIT_SOFTWARE;
    }

    if (strcmp(cli.command, "status") == 0 && cli.arg == NULL && !cli.dry_run) {
        if (dk_load(&cfg, cli.config) != DK_OK)
            return DK_EXIT_CONFIG;
        code = dk_main_status(&cfg);
        dk_config_free(&cfg);
        return code;
    }

    if (strcmp(cli.command, "once") == 0 && cli.arg != NULL &&
        dk_job_parse(cli.arg, &id) == DK_OK && id != DK_JOB_IMPORT_DELIVERY &&
        id != DK_JOB_IMPORT_HOLIDAYS) {
        cli.arg = NULL;
    } else if (strcmp(cli.command, "import-delivery") == 0 && cli.arg != NULL) {
        id = DK_JOB_IMPORT_DELIVERY;
    } else if (strcmp(cli.command, "import-holidays") == 0 && cli.arg != NULL) {
        id = DK_JOB_IMPORT_HOLIDAYS;
    } else {
        fputs(dk_usage_short, stderr);
        return DK_EXIT_USAGE;
    }
    if (dk_load(&cfg, cli.config) != DK_OK)
        return DK_EXIT_CONFIG;
    dk_signals_install();
    code = dk_main_job(&cfg, id, cli.arg, cli.dry_run);
    dk_config_free(&cfg);
    return code;
}
