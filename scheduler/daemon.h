/*
 * "run": the foreground daemon under systemd (Type=notify). Each job at its
 * WIB time, the slot missed while down once at start-up, dk:epoch watched,
 * SIGHUP reloads, SIGTERM stops at a safe point.
 */
#ifndef DK_DAEMON_H
#define DK_DAEMON_H

#include "config.h"
#include "status.h"

/* Takes cfg over. Returns DK_OK after a SIGTERM, DK_ERR if it cannot run. */
int dk_daemon_run(const char *config_path, dk_config_t *cfg);

/* SIGTERM/SIGINT stop at the next safe point; a second one kills at once. */
void dk_signals_install(void);

#endif
