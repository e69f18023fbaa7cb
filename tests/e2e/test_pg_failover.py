"""PostgreSQL high availability (issue 16): a primary and a streaming standby
(pg_basebackup) on loopback, synchronous replication naming the standby, the
module and the scheduler given one multi-host conninfo with
target_session_attrs=read-write. Bookings run; the primary is stopped at once
(as a crash) and the standby promoted: bookings resume within 30 s, the
scheduler follows, and every booking answered 201 is a row of the new
primary."""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

from conftest import Stack, new_stack_dir, wait_until
from stack import SCHEDULER, free_port
from stack.postgres import PG_BIN, as_postgres, chown_postgres
from appointments_helpers import BOOK, booking, open_dates
from helpers import http_for

RESUME_WITHIN = 30      # seconds from the promotion to the next 201
STANDBY = "standby1"    # its application_name, named by the primary


def run(cmd, timeout=120):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, cwd="/")
    assert r.returncode == 0, "%s: exit %d\n%s%s" % (
        " ".join(cmd), r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


def psql(port, sql, user="dukcapil", db="dukcapil"):
    return run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                "hostaddr=127.0.0.1 port=%d dbname=%s user=%s" % (port, db,
                                                                   user),
                "-c", sql]).strip()


class Standby:
    """A streaming standby of the stack's cluster, in a /tmp folder owned by
    postgres (the server refuses root)."""

    def __init__(self, primary_port):
        self.primary_port = primary_port
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="dukcapil-standby-", dir="/tmp")
        os.chmod(self.root, 0o700)
        chown_postgres(self.root)
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "postgresql.log")

    def start(self):
        run(as_postgres([PG_BIN + "/pg_basebackup", "-h", "127.0.0.1",
                         "-p", str(self.primary_port), "-U", "postgres",
                         "-D", self.data, "-X", "stream", "-R",
                         "-c", "fast"]))
        # postgresql.auto.conf is read last: its lines win over the
        # primary's settings copied with the backup
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write("port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "primary_conninfo = 'host=127.0.0.1 port=%d user=postgres "
                    "application_name=%s'\n"
                    % (self.port, self.root, self.primary_port, STANDBY))
        run(as_postgres([PG_BIN + "/pg_ctl", "-D", self.data, "-l", self.log,
                         "-w", "-t", "60", "start"]))

    def promote(self):
        run(as_postgres([PG_BIN + "/pg_ctl", "-D", self.data, "-w", "-t",
                         "60", "promote"]))

    def destroy(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            subprocess.run(as_postgres([PG_BIN + "/pg_ctl", "-D", self.data,
                                        "-m", "immediate", "-w", "stop"]),
                           capture_output=True, timeout=60, cwd="/")
        shutil.rmtree(self.root, ignore_errors=True)


class Bookings(threading.Thread):
    """Books one citizen after another, each with its own key, until told
    to stop; keeps (time, status, code) of every answer."""

    def __init__(self, st):
        super().__init__(daemon=True)
        self.http = http_for(st)
        self.http.timeout = 5
        self.answers = []
        self.stopping = threading.Event()
        self.targets = [(o, d) for d in open_dates(first=1, last=10)
                        for o in ("mpp", "sukajadi", "binawidya", "rumbai")]

    def run(self):
        i = 0
        while not self.stopping.is_set():
            office, date = self.targets[i % len(self.targets)]
            body = booking(900000 + i, date, office=office)
            try:
                r = self.http.post(BOOK, body, headers={
                    "Idempotency-Key": str(uuid.uuid4())})
                status = r.status
                code = r.json().get("code") if status == 201 else None
            except (OSError, ValueError):
                status, code = None, None
            self.answers.append((time.monotonic(), status, code))
            i += 1
            time.sleep(0.02)

    def created(self, since=0.0):
        return [a for a in self.answers if a[1] == 201 and a[0] >= since]


def scheduler_once(yaml_path):
    return subprocess.run([SCHEDULER, "-c", yaml_path, "once", "reconcile"],
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_bookings_resume_on_the_promoted_standby_and_no_201_is_lost():
    st = Stack(new_stack_dir("dukcapil-failover-"), fast=False,
               persistence=False)
    standby = None
    bookings = None
    try:
        st.start_postgres()
        st.start_redis()
        primary = st.pg_port
        standby = Standby(primary)
        standby.start()
        wait_until(lambda: psql(primary, "SELECT count(*) FROM "
                                "pg_stat_replication WHERE application_name"
                                " = '%s' AND state = 'streaming'" % STANDBY,
                                user="postgres") == "1",
                   timeout=30, interval=0.2, what="the standby streaming")
        # synchronous: a commit returns once the standby has it
        psql(primary, "ALTER SYSTEM SET synchronous_standby_names = '%s'"
             % STANDBY, user="postgres")
        psql(primary, "ALTER SYSTEM SET synchronous_commit = on",
             user="postgres")
        psql(primary, "SELECT pg_reload_conf()", user="postgres")
        wait_until(lambda: psql(primary, "SELECT sync_state FROM "
                                "pg_stat_replication WHERE application_name"
                                " = '%s'" % STANDBY, user="postgres")
                   == "sync", timeout=30, interval=0.2,
                   what="the standby synchronous")

        conninfo = ("hostaddr=127.0.0.1,127.0.0.1 port=%d,%d dbname=dukcapil "
                    "user=dukcapil target_session_attrs=read-write "
                    "connect_timeout=2" % (primary, standby.port))
        st.start_nginx(pg_conninfo=conninfo)
        yaml_path = st.write_scheduler_yaml()
        with open(yaml_path) as f:
            yaml = re.sub(r'conninfo: ".*"', 'conninfo: "%s"' % conninfo,
                          f.read())
        yaml_path = os.path.join(st.root, "scheduler-ha.yaml")
        with open(yaml_path, "w") as f:
            f.write(yaml)
        r = scheduler_once(yaml_path)
        assert r.returncode == 0, r.stderr

        bookings = Bookings(st)
        bookings.start()
        wait_until(lambda: len(bookings.created()) >= 30, timeout=60,
                   interval=0.1, what="bookings on the primary")

        # the primary goes away at once, as in a crash
        run(as_postgres([PG_BIN + "/pg_ctl", "-D", st.pg_data, "-m",
                         "immediate", "-w", "stop"]))
        time.sleep(1)
        promoted = time.monotonic()
        standby.promote()
        wait_until(lambda: bookings.created(since=promoted + 0.001),
                   timeout=RESUME_WITHIN, interval=0.1,
                   what="a booking on the promoted standby")
        resumed = bookings.created(since=promoted)[0][0] - promoted
        time.sleep(2)
        bookings.stopping.set()
        bookings.join(timeout=30)

        # while no primary took writes: 503, never a 500 nor a hang
        assert {a[1] for a in bookings.answers} <= {201, 503}, \
            sorted({str(a[1]) for a in bookings.answers})
        # no 201 for a row the new primary lacks
        told = {a[2] for a in bookings.created()}
        stored = set(psql(standby.port,
                          "SELECT code FROM appointment").split())
        assert told and told <= stored, sorted(told - stored)[:10]
        print("resumed %.1f s after the promotion; %d of %d bookings "
              "answered 201" % (resumed, len(told), len(bookings.answers)))
        assert resumed < RESUME_WITHIN

        # the scheduler follows the promoted standby too
        r = scheduler_once(yaml_path)
        assert r.returncode == 0, r.stderr
        assert psql(standby.port, "SELECT count(*) FROM scheduler_run WHERE "
                    "job = 'reconcile' AND outcome = 'ok'") == "2"
    finally:
        if bookings is not None:
            bookings.stopping.set()
            bookings.join(timeout=30)
        st.destroy()
        if standby is not None:
            standby.destroy()
