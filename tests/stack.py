#!/usr/bin/python3
"""Start and stop the whole local stack in one folder: PostgreSQL, Redis, nginx
with ngx_dukcapil_module, and (when built) dukcapil-scheduler.

Used by `make run` / `make stop` (folder var/) and by the end-to-end tests
(a fresh folder under /tmp for each stack). Standard library + psycopg2 + redis.

    /usr/bin/python3 tests/stack.py start DIR [--http-port N] [--redis-port N]
                                              [--pg-port N] [--ops-user U]
                                              [--ops-password P] [--no-module]
                                              [--no-scheduler] [--workers N]
    /usr/bin/python3 tests/stack.py stop DIR
    /usr/bin/python3 tests/stack.py status DIR

Layout of DIR:
    stack.json        ports, paths and settings chosen on the first start
    pg/               PostgreSQL cluster (data/, postgresql.log) -- or, when
                      user postgres cannot enter DIR, /tmp/dukcapil-pg-XXXX
                      (path recorded in stack.json)
    redis/            redis.conf, AOF, redis.log
    nginx/            nginx.conf, error.log, access.log, temp folders
    ops.htpasswd      operator account (nginx auth_basic)
    ops-password      its password in clear (mode 0600), printed by make run
    scheduler.yaml    dukcapil-scheduler configuration; scheduler.log its log
    outbox/           manifests written by the scheduler

Starting again starts only what is not running and changes nothing else.
"""

import argparse
import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = "/usr/lib/postgresql/15/bin"
NGINX = "/usr/sbin/nginx"
REDIS_SERVER = "/usr/bin/redis-server"
MODULE = os.environ.get("DUKCAPIL_MODULE") or \
    os.path.join(REPO, "build", "ngx_http_dukcapil_module.so")
SCHEDULER = os.path.join(REPO, "build", "dukcapil-scheduler")
MIGRATE = os.path.join(REPO, "sql", "migrate.sh")
CONF_DEMO = os.path.join(REPO, "conf", "demo")

# Offices and services of the demo configuration: (code, name[, quota]).
OFFICES = [
    ("mpp", "Mal Pelayanan Publik Pekanbaru"),
    ("sukajadi", "UPT Disdukcapil Kecamatan Sukajadi"),
    ("binawidya", "UPT Disdukcapil Kecamatan Binawidya"),
    ("tenayan_raya", "UPT Disdukcapil Kecamatan Tenayan Raya"),
    ("rumbai", "UPT Disdukcapil Kecamatan Rumbai"),
]
SERVICES = [
    ("ktp", "KTP-el", 150),
    ("kk", "Kartu Keluarga", 100),
    ("akta_lahir", "Akta Kelahiran", 80),
    ("akta_mati", "Akta Kematian", 30),
    ("kia", "Kartu Identitas Anak", 60),
    ("pindah", "Surat Pindah (SKPWNI)", 40),
    ("ambil", "Pengambilan Dokumen", 200),
]

IS_ROOT = os.geteuid() == 0


class StackError(RuntimeError):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def child_pids(ppid):
    """Pids whose parent is ppid (from /proc)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid and fields[0] != "Z":
            pids.append(int(name))
    return sorted(pids)


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            raise StackError("timed out after %.1f s waiting for %s"
                             % (timeout, what))
        time.sleep(interval)


def render(template_name, values):
    with open(os.path.join(CONF_DEMO, template_name)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@@%s@@" % key, str(value))
    left = re.search(r"@@[A-Z_]+@@", text)
    if left:
        raise StackError("%s: placeholder left unrendered: %s"
                         % (template_name, left.group(0)))
    return text


def write_if_changed(path, text, mode=None):
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


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


def run(cmd, what, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if r.returncode != 0:
        raise StackError("%s failed (exit %d): %s\n%s"
                         % (what, r.returncode, " ".join(cmd), r.stdout))
    return r.stdout


class Stack:
    """One PostgreSQL + one Redis + one nginx (+ scheduler) in folder `root`.

    Ports not given are chosen free (binding port 0) on the first start and
    kept in root/stack.json, so that a later start uses the same ones.

    fast=True (tests): PostgreSQL without fsync; persistence=False: Redis
    without AOF/RDB (a restart then loses everything, like a lost Redis).
    """

    def __init__(self, root, http_port=None, redis_port=None, pg_port=None,
                 module=MODULE, ops_user="petugas", ops_password=None,
                 fast=False, persistence=True, workers=2, quiet=True):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)
        self.state_path = os.path.join(self.root, "stack.json")
        self.state = self._load_state()
        self.quiet = quiet
        self.module = module
        self.fast = fast
        self.persistence = persistence
        self.workers = workers
        self.nginx_wrapper = None
        self.nginx_env = None
        self.scheduler_proc = None
        self.nginx_launcher = None

        self._choose_port("http_port", http_port)
        self._choose_port("redis_port", redis_port)
        self._choose_port("pg_port", pg_port)
        self.state["ops_user"] = ops_user
        if ops_password:
            self.state["ops_password_wanted"] = ops_password
        self._save_state()

        self.redis_dir = os.path.join(self.root, "redis")
        self.nginx_dir = os.path.join(self.root, "nginx")
        self.nginx_conf = os.path.join(self.nginx_dir, "nginx.conf")
        self.error_log = os.path.join(self.nginx_dir, "error.log")
        # beside nginx.conf, where conf/dukcapil-api.conf looks for them
        self.htpasswd = os.path.join(self.nginx_dir, "dukcapil-ops.htpasswd")
        self.ops_access = os.path.join(self.nginx_dir,
                                       "dukcapil-ops-access.conf")
        self.scheduler_yaml = os.path.join(self.root, "scheduler.yaml")
        self.scheduler_log = os.path.join(self.root, "scheduler.log")
        self.scheduler_pidfile = os.path.join(self.root, "scheduler.pid")

    # --- state -----------------------------------------------------------

    def _load_state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _save_state(self):
        write_if_changed(self.state_path,
                         json.dumps(self.state, indent=2, sort_keys=True) + "\n",
                         0o600)

    def _choose_port(self, key, wanted):
        if wanted and self.state.get(key) not in (None, wanted):
            self.state.setdefault("port_changes", {})[key] = wanted
        elif key not in self.state:
            self.state[key] = wanted or free_port()

    def _apply_port_change(self, key, running):
        """A port asked for differs from the stored one: take it only when the
        server is not running (a running server keeps its port)."""
        wanted = self.state.get("port_changes", {}).pop(key, None)
        if wanted is None:
            return
        if running:
            self.say("note: %s stays %s while running (stop first to change)"
                     % (key, self.state[key]))
        else:
            self.state[key] = wanted
        self._save_state()

    def say(self, msg):
        if not self.quiet:
            print(msg, flush=True)

    @property
    def http_port(self):
        return self.state["http_port"]

    @property
    def redis_port(self):
        return self.state["redis_port"]

    @property
    def pg_port(self):
        return self.state["pg_port"]

    @property
    def nginx_url(self):
        return "http://127.0.0.1:%d" % self.http_port

    @property
    def pg_conninfo(self):
        return ("hostaddr=127.0.0.1 port=%d dbname=dukcapil user=dukcapil"
                % self.pg_port)

    @property
    def ops_user(self):
        return self.state["ops_user"]

    @property
    def ops_password(self):
        return self.state.get("ops_password")

    # --- PostgreSQL ------------------------------------------------------

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
            f.write("\n# Settings of the dukcapil stack (tests/stack.py)\n"
                    "include 'dukcapil-stack.conf'\n")

    def _pg_write_conf(self):
        lines = [
            "# written by tests/stack.py on every start",
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
                      "full_page_writes = off", "shared_buffers = 32MB"]
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

    def _pg_bootstrap(self):
        admin = ("hostaddr=127.0.0.1 port=%d dbname=postgres user=postgres"
                 % self.pg_port)
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

    def psql(self, sql, user="dukcapil"):
        """Run SQL with psql; returns its unaligned, tuples-only output."""
        conninfo = self.pg_conninfo.replace("user=dukcapil", "user=" + user)
        return run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                    "-d", conninfo, "-c", sql], "psql")

    # --- Redis -----------------------------------------------------------

    def redis_pid(self):
        pid = read_pid(os.path.join(self.redis_dir, "redis.pid"))
        return pid if pid_alive(pid) else None

    def redis_running(self):
        return self.redis_pid() is not None

    def redis(self, **kw):
        """A redis-py client of this stack's Redis."""
        import redis
        return redis.Redis(host="127.0.0.1", port=self.redis_port, **kw)

    def start_redis(self, set_epoch=True):
        """Start Redis if not running. On the very first start of this Redis
        (an empty data set: nothing to rebuild) set dk:epoch to now."""
        running = self.redis_running()
        self._apply_port_change("redis_port", running)
        if running:
            return
        os.makedirs(self.redis_dir, exist_ok=True)
        conf = render("redis.conf.in", {
            "REDIS_PORT": self.redis_port,
            "REDIS_DIR": self.redis_dir,
            "APPENDONLY": "yes" if self.persistence else "no",
            "SAVE": '""',
            # tests make Redis slow on purpose (DEBUG SLEEP); make run: no
            "DEBUG_COMMAND": "local" if self.fast else "no",
        })
        conf_path = os.path.join(self.redis_dir, "redis.conf")
        write_if_changed(conf_path, conf)
        self.say("redis: start on 127.0.0.1:%d" % self.redis_port)
        run([REDIS_SERVER, conf_path], "redis-server")
        r = self.redis()
        try:
            wait_until(lambda: self._redis_ready(r), 30, what="redis to load")
            fresh_marker = os.path.join(self.redis_dir, "initialized")
            if not os.path.exists(fresh_marker):
                if set_epoch and r.dbsize() == 0:
                    self.set_epoch(r)
                with open(fresh_marker, "w") as f:
                    f.write("dk:epoch set on the first start of this Redis\n")
        finally:
            r.close()

    @staticmethod
    def _redis_ready(r):
        import redis
        try:
            return r.ping()
        except (redis.ConnectionError, redis.BusyLoadingError):
            return False

    def set_epoch(self, r=None):
        """Mark Redis as holding a complete state (what a rebuild does)."""
        close = r is None
        r = r or self.redis()
        try:
            r.set("dk:epoch", str(int(time.time())))
        finally:
            if close:
                r.close()

    def stop_redis(self):
        pid = self.redis_pid()
        if not pid:
            return
        self.thaw_redis()
        self.say("redis: shutdown")
        r = self.redis()
        import redis
        try:
            r.shutdown(nosave=not self.persistence)
        except redis.ConnectionError:
            pass
        finally:
            r.close()
        wait_until(lambda: not pid_alive(pid), 30, what="redis to exit")

    def kill_redis(self):
        """SIGKILL: what the AOF must survive."""
        pid = self.redis_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 10, what="redis to die")

    def freeze_redis(self):
        """SIGSTOP Redis: commands hang (a Redis that is 'too slow')."""
        pid = self.redis_pid()
        if pid:
            os.kill(pid, signal.SIGSTOP)

    def thaw_redis(self):
        pid = self.redis_pid()
        if pid:
            os.kill(pid, signal.SIGCONT)

    def restart_redis(self):
        self.stop_redis()
        self.start_redis()

    def reset_redis(self):
        """FLUSHALL, then dk:epoch = now (a fresh, complete, empty state)."""
        r = self.redis()
        try:
            r.flushall()
            self.set_epoch(r)
        finally:
            r.close()

    # --- nginx -----------------------------------------------------------

    def _ensure_htpasswd(self):
        wanted = self.state.pop("ops_password_wanted", None)
        if wanted and wanted != self.state.get("ops_password"):
            self.state["ops_password"] = wanted
        elif not self.state.get("ops_password"):
            pw_file = os.path.join(self.root, "ops-password")
            try:
                with open(pw_file) as f:
                    self.state["ops_password"] = f.read().strip()
            except OSError:
                self.state["ops_password"] = secrets.token_urlsafe(12)
        self._save_state()
        write_if_changed(os.path.join(self.root, "ops-password"),
                         self.ops_password + "\n", 0o600)
        line_ok = False
        try:
            r = subprocess.run(["htpasswd", "-v", "-i", self.htpasswd,
                                self.ops_user], input=self.ops_password,
                               text=True, capture_output=True)
            line_ok = r.returncode == 0
        except FileNotFoundError:
            raise StackError("htpasswd missing: apt-get install apache2-utils")
        if not line_ok:
            flags = "-iB" if os.path.exists(self.htpasswd) else "-ciB"
            run(["htpasswd", flags, self.htpasswd, self.ops_user],
                "htpasswd", input=self.ops_password)
        os.chmod(self.htpasswd, 0o640)

    def render_nginx_conf(self, extra_http="", extra_server="", workers=None,
                          services=None, offices=None, closed_weekdays="sun",
                          booking_window=14, phone_cap=5, module=None):
        """The demo nginx.conf for this stack, as text.

        module=False (or a missing module file when module is None and the
        default is used) leaves out load_module and every dukcapil_ line: a
        plain nginx, to try the stack before the module exists."""
        module = self.module if module is None else module
        services = SERVICES if services is None else services
        offices = OFFICES if offices is None else offices
        text = render("nginx.conf.in", {
            "LOAD_MODULE": "load_module %s;" % module if module else "",
            "USER": ("# Workers read files under the stack folder (which may "
                     "sit in /root):\n# local stack only.\nuser root;"
                     if IS_ROOT else ""),
            "WORKERS": workers or self.workers,
            "NGINX_DIR": self.nginx_dir,
            "REDIS_PORT": self.redis_port,
            "PG_PORT": self.pg_port,
            "HTTP_PORT": self.http_port,
            "API_CONF": os.path.join(REPO, "conf", "dukcapil-api.conf"),
            "OFFICES": "\n".join('    dukcapil_office  %s "%s";' % o
                                 for o in offices),
            "SERVICES": "\n".join('    dukcapil_service %s "%s" %d;' % s
                                  for s in services),
            "CLOSED_WEEKDAYS": closed_weekdays,
            "BOOKING_WINDOW": booking_window,
            "PHONE_CAP": phone_cap,
            "EXTRA_HTTP": extra_http,
            "EXTRA_SERVER": extra_server,
        })
        if not module:
            text = "\n".join("# (no module) " + l if "dukcapil_" in l else l
                             for l in text.split("\n"))
        return text

    def _nginx_dirs(self):
        for sub in ("", "tmp", "tmp/body", "tmp/proxy", "tmp/fastcgi",
                    "tmp/uwsgi", "tmp/scgi"):
            os.makedirs(os.path.join(self.nginx_dir, sub), exist_ok=True)
        # the local stack's operators are on this machine
        write_if_changed(self.ops_access,
                         "# local stack: operators on this machine only\n"
                         "allow 127.0.0.1;\ndeny  all;\n")

    def nginx_cmd(self, *args, conf=None):
        return [NGINX, "-p", self.nginx_dir + "/", "-c", conf or self.nginx_conf,
                "-e", self.error_log] + list(args)

    def nginx_test(self, conf_text, name="test.conf"):
        """`nginx -t` of a configuration text; returns (exit code, output,
        path of the file it was written to)."""
        self._nginx_dirs()
        self._ensure_htpasswd()
        path = os.path.join(self.nginx_dir, name)
        with open(path, "w") as f:
            f.write(conf_text)
        r = subprocess.run(self.nginx_cmd("-t", conf=path), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=self._nginx_env(self.nginx_env))
        return r.returncode, r.stdout, path

    def nginx_pid(self):
        pid = read_pid(os.path.join(self.nginx_dir, "nginx.pid"))
        return pid if pid_alive(pid) else None

    def nginx_running(self):
        return self.nginx_pid() is not None

    def worker_pids(self):
        master = self.nginx_pid()
        return child_pids(master) if master else []

    @staticmethod
    def _nginx_env(env):
        e = dict(os.environ)
        e.update(env or {})
        return e

    def start_nginx(self, extra_http="", extra_server="", workers=None,
                    env=None, wrapper=None, **conf_kw):
        """Render nginx.conf and start nginx (daemon on), unless it runs.

        env: extra environment (e.g. LD_PRELOAD of libasan, ASAN_OPTIONS);
        wrapper: a command prefix, e.g. ["faketime", "2026-12-01 17:30:00"]
        or a valgrind command line. Other keywords go to render_nginx_conf.
        """
        running = self.nginx_running()
        self._apply_port_change("http_port", running)
        if running:
            return
        if self.module and not os.path.exists(self.module):
            raise StackError("%s is missing: run `make module` first "
                             "(or start with module=False)" % self.module)
        self._nginx_dirs()
        self._ensure_htpasswd()
        write_if_changed(self.nginx_conf, self.render_nginx_conf(
            extra_http, extra_server, workers, **conf_kw))
        self.nginx_env = env
        self.nginx_wrapper = wrapper
        self.say("nginx: start on 127.0.0.1:%d" % self.http_port)
        mark = self.error_log_size()
        # Not subprocess.run: a wrapper such as faketime stays alive (holding
        # its pipes) for as long as the daemonized nginx runs.
        start_log = os.path.join(self.nginx_dir, "start.log")
        with open(start_log, "w") as log:
            self.nginx_launcher = subprocess.Popen(
                (wrapper or []) + self.nginx_cmd(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=self._nginx_env(env),
                start_new_session=True)

        def failed(rc):
            with open(start_log, errors="replace") as f:
                out = f.read()
            return StackError("nginx did not start (%s):\n%s%s" % (
                rc, out, "".join(self.error_log_lines(since=mark)[-20:])))

        def started():
            rc = self.nginx_launcher.poll()
            if rc not in (None, 0):
                raise failed("exit %d" % rc)
            return self.nginx_pid() and port_open(self.http_port)
        try:
            wait_until(started, 60, what="nginx")
        except StackError as e:
            if "timed out" in str(e):
                raise failed("not listening on %d after 60 s" % self.http_port)
            raise

    def reload_nginx(self, wait=True, timeout=30):
        """nginx -s reload; with wait, until the old workers have exited and
        the new ones run."""
        old = set(self.worker_pids())
        run(self.nginx_cmd("-s", "reload"), "nginx -s reload",
            env=self._nginx_env(self.nginx_env))
        if wait:
            def settled():
                pids = set(self.worker_pids())
                return not (pids & old) and len(pids) >= len(old)
            wait_until(settled, timeout, what="old nginx workers to exit")

    def stop_nginx(self, timeout=30):
        pid = self.nginx_pid()
        if not pid:
            return
        self.say("nginx: quit")
        subprocess.run(self.nginx_cmd("-s", "quit"), capture_output=True,
                       env=self._nginx_env(self.nginx_env))
        try:
            wait_until(lambda: not pid_alive(pid), timeout,
                       what="nginx to quit")
        except StackError:
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not pid_alive(pid), 10, what="nginx to stop")
        if self.nginx_launcher:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.nginx_launcher.wait(5)

    def error_log_size(self):
        try:
            return os.path.getsize(self.error_log)
        except OSError:
            return 0

    def error_log_lines(self, since=0):
        """Lines of nginx's error.log from byte offset `since`
        (take it from error_log_size() before an action)."""
        try:
            with open(self.error_log, errors="replace") as f:
                f.seek(since)
                return f.readlines()
        except OSError:
            return []

    # --- scheduler -------------------------------------------------------

    def write_scheduler_yaml(self):
        outbox = os.path.join(self.root, "outbox")
        os.makedirs(outbox, exist_ok=True)
        write_if_changed(self.scheduler_yaml, render("scheduler.yaml.in", {
            "PG_PORT": self.pg_port,
            "REDIS_PORT": self.redis_port,
            "BUDGET_PERIOD": time.strftime("%Y"),
            "OUTBOX_DIR": outbox,
            "BOOKING_WINDOW": 14,
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

    def start_scheduler(self, binary=SCHEDULER, env=None):
        """Start `dukcapil-scheduler -c scheduler.yaml run` in the background
        (log: scheduler.log). Returns False when the binary is not built."""
        self.write_scheduler_yaml()
        if self.scheduler_pid():
            return True
        if not os.path.exists(binary):
            return False
        self.say("scheduler: start")
        with open(self.scheduler_log, "ab") as log:
            proc = subprocess.Popen(
                [binary, "-c", self.scheduler_yaml, "run"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.root, start_new_session=True,
                env=self._nginx_env(env))
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

    # --- the whole -------------------------------------------------------

    def start(self, nginx=True, scheduler=True, **nginx_kw):
        self.start_postgres()
        self.start_redis()
        self.write_scheduler_yaml()
        if nginx:
            self.start_nginx(**nginx_kw)
        if scheduler:
            self.start_scheduler()

    def stop(self):
        self.stop_scheduler()
        self.stop_nginx()
        self.stop_redis()
        self.stop_postgres()

    def destroy(self):
        """Stop everything and remove the stack's folders (tests)."""
        errors = []
        for step in (self.stop_scheduler, self.stop_nginx, self.stop_redis,
                     self.stop_postgres):
            try:
                step()
            except Exception as e:  # keep stopping the rest
                errors.append(e)
        for d in (self.state.get("pg_root"), self.state.get("pg_socket_dir")):
            if d and not d.startswith(self.root + "/"):
                shutil.rmtree(d, ignore_errors=True)
        for _ in range(3):      # a process that just exited may still write
            shutil.rmtree(self.root, ignore_errors=True)
            if not os.path.exists(self.root):
                break
            time.sleep(0.5)
        if errors:
            raise errors[0]

    def status(self):
        return {
            "postgres": self.postgres_pid(),
            "redis": self.redis_pid(),
            "nginx": self.nginx_pid(),
            "scheduler": self.scheduler_pid(),
        }

    def summary(self):
        logs = [("nginx", self.error_log),
                ("nginx access", os.path.join(self.nginx_dir, "access.log")),
                ("redis", os.path.join(self.redis_dir, "redis.log")),
                ("postgres", self.pg_log if self.pg_root else "-"),
                ("scheduler", self.scheduler_log)]
        out = [
            "Portal API:  %s/api/v1/services" % self.nginx_url,
            "Health:      %s/api/v1/health" % self.nginx_url,
            "Operator:    user %s, password %s   (%s/api/v1/ops/...)"
            % (self.ops_user, self.ops_password, self.nginx_url),
            "PostgreSQL:  psql \"%s\"" % self.pg_conninfo,
            "Redis:       redis-cli -p %d" % self.redis_port,
            "Scheduler:   %s" % self.scheduler_yaml,
            "Logs:",
        ] + ["  %-13s %s" % l for l in logs]
        return "\n".join(out)


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    p = argparse.ArgumentParser(description="local Disdukcapil stack")
    p.add_argument("command", choices=["start", "stop", "status"])
    p.add_argument("dir")
    p.add_argument("--http-port", type=int)
    p.add_argument("--redis-port", type=int)
    p.add_argument("--pg-port", type=int)
    p.add_argument("--ops-user", default=None)
    p.add_argument("--ops-password", default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--module", default=MODULE,
                   help="the module .so to load (default: %(default)s)")
    p.add_argument("--no-module", action="store_true",
                   help="plain nginx without the module (smoke test)")
    p.add_argument("--no-scheduler", action="store_true")
    a = p.parse_args(argv)

    if a.command != "start" and not os.path.exists(
            os.path.join(a.dir, "stack.json")):
        print("no stack in %s" % a.dir)
        return 0 if a.command == "stop" else 3

    st = Stack(a.dir, http_port=a.http_port, redis_port=a.redis_port,
               pg_port=a.pg_port, ops_user=a.ops_user or "petugas",
               ops_password=a.ops_password
               or os.environ.get("DUKCAPIL_OPS_PASSWORD") or None,
               module=None if a.no_module else os.path.abspath(a.module),
               workers=a.workers, quiet=False)
    try:
        if a.command == "start":
            st.start(scheduler=not a.no_scheduler)
            if not a.no_scheduler and not st.scheduler_pid():
                print("scheduler: %s not built; not started" % SCHEDULER)
            print()
            print(st.summary())
        elif a.command == "stop":
            st.stop()
            print("stopped (data kept in %s)" % st.root)
        else:
            down = 0
            for name, pid in st.status().items():
                print("%-10s %s" % (name, "running, pid %d" % pid if pid
                                    else "stopped"))
                down += pid is None and name != "scheduler"
            return 0 if down == 0 else 3
    except StackError as e:
        print("stack: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
