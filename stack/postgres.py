"""The stack's PostgreSQL: a cluster of its own (initdb on the first start),
role and database `dukcapil`, the migrations of sql/, and the test tools
(freeze, thaw, psql)."""

import contextlib
import os
import pwd
import signal
import subprocess
import tempfile

from stack.base import (IS_ROOT, REPO, Folder, child_pids, pid_alive,
                        read_pid, run, write_if_changed)

PG_BIN = "/usr/lib/postgresql/15/bin"
MIGRATE = os.path.join(REPO, "sql", "migrate.sh")


def as_postgres(cmd):
    """Run a PostgreSQL server tool as user postgres (the server refuses root)."""
    if IS_ROOT:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


def postgres_can_write(path):
    if not IS_ROOT:
        return True
    r = subprocess.run(as_postgres(["test", "-w", path, "-a", "-x", path]),
                       cwd="/")
    return r.returncode == 0


def chown_postgres(path):
    if IS_ROOT:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


class PostgresServer(Folder):
    """fast=True (tests): no fsync, and pg_stat_statements counts what runs
    (statement_calls)."""

    fast = False

    @property
    def pg_root(self):
        return self.state.get("pg_root")

    @property
    def pg_data(self):
        return os.path.join(self.pg_root, "data")

    @property
    def pg_log(self):
        return os.path.join(self.pg_root, "postgresql.log")

    def _pg_locate(self):
        """Where the cluster lives: root/pg, or a /tmp folder when user
        postgres cannot enter root (e.g. a clone under /root)."""
        root = self.state.get("pg_root")
        if root and os.path.isdir(os.path.join(root, "data")):
            return
        if root:
            self.say("warning: cluster %s is gone; creating a new one" % root)
        root = os.path.join(self.root, "pg")
        os.makedirs(root, exist_ok=True)
        chown_postgres(root)
        if not postgres_can_write(root):
            os.rmdir(root)
            root = tempfile.mkdtemp(prefix="dukcapil-pg-", dir="/tmp")
            os.chmod(root, 0o700)
            chown_postgres(root)
        self.state["pg_root"] = root
        self._save_state()

    def _pg_socket_dir(self):
        d = self.state.get("pg_socket_dir")
        if not d or not os.path.isdir(d):
            d = tempfile.mkdtemp(prefix="dukcapil-pgsock-", dir="/tmp")
            os.chmod(d, 0o755)
            chown_postgres(d)
            self.state["pg_socket_dir"] = d
            self._save_state()
        return d

    def postgres_pid(self):
        if not self.pg_root:
            return None
        pid = read_pid(os.path.join(self.pg_data, "postmaster.pid"))
        return pid if pid_alive(pid) else None

    def postgres_running(self):
        return self.postgres_pid() is not None

    def _pg_initdb(self):
        if os.path.exists(os.path.join(self.pg_data, "PG_VERSION")):
            return
        self.say("postgres: initdb %s" % self.pg_data)
        run(as_postgres([PG_BIN + "/initdb", "-D", self.pg_data, "-U", "postgres",
                         "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8",
                         "--no-instructions"] + (["-N"] if self.fast else [])),
            "initdb", cwd=self.pg_root)
        with open(os.path.join(self.pg_data, "postgresql.conf"), "a") as f:
            f.write("\n# Settings of the dukcapil stack (stack/postgres.py)\n"
                    "include 'dukcapil-stack.conf'\n")

    def _pg_write_conf(self):
        lines = [
            "# written by stack/postgres.py on every start",
            "listen_addresses = '127.0.0.1'",
            "port = %d" % self.pg_port,
            "unix_socket_directories = '%s'" % self._pg_socket_dir(),
            "max_connections = 200",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "log_min_messages = warning",
            "log_line_prefix = '%m [%p] '",
        ]
        if self.fast:
            lines += ["fsync = off", "synchronous_commit = off",
                      "full_page_writes = off", "shared_buffers = 32MB",
                      "shared_preload_libraries = 'pg_stat_statements'"]
        path = os.path.join(self.pg_data, "dukcapil-stack.conf")
        write_if_changed(path, "\n".join(lines) + "\n", 0o644)
        chown_postgres(path)

    def start_postgres(self, migrate=True):
        """initdb on the first call, start, create role and database
        `dukcapil`, apply the migrations. Nothing if already running."""
        self._pg_locate()
        running = self.postgres_running()
        self._apply_port_change("pg_port", running)
        if not running:
            self._pg_initdb()
            self._pg_write_conf()
            self.say("postgres: start on 127.0.0.1:%d" % self.pg_port)
            run(as_postgres([PG_BIN + "/pg_ctl", "-D", self.pg_data,
                             "-l", self.pg_log, "-w", "-t", "60", "start"]),
                "pg_ctl start (log: %s)" % self.pg_log, cwd=self.pg_root)
        self._pg_bootstrap()
        if migrate:
            self.migrate()

    @property
    def _pg_admin(self):
        return ("hostaddr=127.0.0.1 port=%d dbname=postgres user=postgres"
                % self.pg_port)

    def _pg_bootstrap(self):
        admin = self._pg_admin
        if self.fast:
            # in database postgres: nothing is added to dukcapil's schema
            run(["psql", "-X", "-q", "-d", admin, "-c",
                 "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"],
                "create extension pg_stat_statements")
        exists = run(["psql", "-X", "-A", "-t", "-d", admin, "-c",
                      "SELECT 1 FROM pg_database WHERE datname = 'dukcapil'"],
                     "psql").strip()
        if exists == "1":
            return
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin,
             "-c", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE "
                   "rolname = 'dukcapil') THEN CREATE ROLE dukcapil LOGIN; "
                   "END IF; END $$",
             "-c", "CREATE DATABASE dukcapil OWNER dukcapil"],
            "create role and database dukcapil")

    def migrate(self):
        out = run([MIGRATE, self.pg_conninfo], "sql/migrate.sh")
        if out.strip():
            self.say(out.rstrip())
        return out

    def stop_postgres(self):
        if self.postgres_running():
            self.say("postgres: stop (fast)")
            self.thaw_postgres()
            run(as_postgres([PG_BIN + "/pg_ctl", "-D", self.pg_data, "-m",
                             "fast", "-w", "-t", "60", "stop"]),
                "pg_ctl stop", cwd=self.pg_root)

    def restart_postgres(self):
        self.stop_postgres()
        self.start_postgres(migrate=False)

    def _postgres_pids(self):
        master = self.postgres_pid()
        return [master] + child_pids(master) if master else []

    def freeze_postgres(self):
        """SIGSTOP the postmaster and every backend: queries hang, connections
        stay open (a PostgreSQL that is 'too slow')."""
        pids = self._postgres_pids()
        for pid in pids:
            # a backend may have ended since it was listed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        self.state["pg_frozen"] = pids
        return pids

    def thaw_postgres(self):
        for pid in self.state.pop("pg_frozen", []) or self._postgres_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def connect(self, **kw):
        """A psycopg2 connection as user dukcapil (autocommit by default)."""
        import psycopg2
        conn = psycopg2.connect(self.pg_conninfo, **kw)
        conn.autocommit = True
        return conn

    def statement_calls(self, query):
        """How many times database dukcapil has run `query`, written as
        pg_stat_statements writes it (constants as $1, $2 ...). Counted when
        a statement ends; fast (test) stacks only."""
        # on stdin: psql quotes the variable (-c would not interpolate it)
        out = run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                   "-d", self._pg_admin, "-v", "q=" + query],
                  "psql", input="SELECT coalesce(sum(s.calls), 0)"
                  " FROM pg_stat_statements s JOIN pg_database d"
                  " ON d.oid = s.dbid WHERE d.datname = 'dukcapil'"
                  " AND s.query = :'q';\n")
        return int(out)

    def psql(self, sql, user="dukcapil"):
        """Run SQL with psql; returns its unaligned, tuples-only output."""
        conninfo = self.pg_conninfo.replace("user=dukcapil", "user=" + user)
        return run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                    "-d", conninfo, "-c", sql], "psql")
