"""The stack's dukcapil-scheduler, when built: scheduler.yaml rendered from
conf/demo/, the daemon in the background, its log and pid file, and the
file its sender writes the citizens' messages to (messages.jsonl)."""

import contextlib
import os
import signal
import subprocess
import time

from stack.base import (REPO, Folder, StackError, environ, pid_alive,
                        read_pid, render, wait_until, write_if_changed)

SCHEDULER = os.path.join(REPO, "build", "dukcapil-scheduler")


class SchedulerDaemon(Folder):

    scheduler_proc = None       # the Popen of the last start

    @property
    def scheduler_yaml(self):
        return os.path.join(self.root, "scheduler.yaml")

    @property
    def scheduler_log(self):
        return os.path.join(self.root, "scheduler.log")

    @property
    def messages_file(self):
        """One JSON line per message the daemon sends (the file channel)."""
        return os.path.join(self.root, "messages.jsonl")

    @property
    def scheduler_pidfile(self):
        return os.path.join(self.root, "scheduler.pid")

    def write_scheduler_yaml(self, jobs=True):
        """jobs=False: every job "off", a daemon that only sends the
        citizens' messages (and runs no reconcile: no rebuild either)."""
        outbox = os.path.join(self.root, "outbox")
        os.makedirs(outbox, exist_ok=True)
        write_if_changed(self.scheduler_yaml, render("scheduler.yaml.in", {
            "PG_PORT": self.pg_port,
            "REDIS_PORT": self.redis_port,
            "REDIS_AUTH_FILE": self.redis_auth_file,
            "OUTBOX_DIR": outbox,
            "BOOKING_WINDOW": 14,
            "DELIVERY_BATCH_AT": "01:00" if jobs else "off",
            "RECONCILE_AT": "00:15" if jobs else "off",
            "REMINDER_AT": "18:00" if jobs else "off",
            "MESSAGES_FILE": self.messages_file,
            "METRICS_FILE": os.path.join(self.root,
                                         "dukcapil_notification.prom"),
        }))
        return self.scheduler_yaml

    def scheduler_pid(self):
        pid = read_pid(self.scheduler_pidfile)
        if not pid_alive(pid):
            return None
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"dukcapil-scheduler" not in f.read():
                    return None
        except OSError:
            return None
        return pid

    def start_scheduler(self, binary=SCHEDULER, env=None, jobs=True):
        """Start `dukcapil-scheduler -c scheduler.yaml run` in the background
        (log: scheduler.log). Returns False when the binary is not built.
        jobs=False: a daemon that only sends (write_scheduler_yaml)."""
        self.write_scheduler_yaml(jobs=jobs)
        if self.scheduler_pid():
            return True
        if not os.path.exists(binary):
            return False
        self.say("scheduler: start")
        with open(self.scheduler_log, "ab") as log:
            proc = subprocess.Popen(
                [binary, "-c", self.scheduler_yaml, "run"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.root, start_new_session=True, env=environ(env))
        self.scheduler_proc = proc
        with open(self.scheduler_pidfile, "w") as f:
            f.write("%d\n" % proc.pid)
        time.sleep(0.3)
        if proc.poll() is not None:
            raise StackError("dukcapil-scheduler exited at once (exit %d); "
                             "see %s" % (proc.returncode, self.scheduler_log))
        return True

    def stop_scheduler(self, timeout=15):
        pid = self.scheduler_pid()
        if not pid:
            return
        self.say("scheduler: stop")
        os.kill(pid, signal.SIGTERM)
        try:
            wait_until(lambda: not pid_alive(pid) or self._reap(pid), timeout,
                       what="scheduler to exit")
        except StackError:
            os.kill(pid, signal.SIGKILL)
        self._reap(pid)
        with contextlib.suppress(OSError):
            os.unlink(self.scheduler_pidfile)

    def _reap(self, pid):
        if self.scheduler_proc and self.scheduler_proc.pid == pid:
            return self.scheduler_proc.poll() is not None
        return False
