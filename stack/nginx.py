"""The stack's nginx: Debian's binary with ngx_dukcapil_module, the demo
nginx.conf rendered from conf/demo/, the operator's account, and the tools
the tests drive it with (nginx -t, reload, the error log)."""

import contextlib
import os
import re
import secrets
import signal
import subprocess

from stack.base import (IS_ROOT, REPO, Folder, StackError, child_pids,
                        environ, pid_alive, port_open, read_pid, render, run,
                        wait_until, write_if_changed)

NGINX = "/usr/sbin/nginx"
MODULE = os.environ.get("DUKCAPIL_MODULE") or \
    os.path.join(REPO, "build", "ngx_http_dukcapil_module.so")

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


class NginxServer(Folder):
    """module: the .so to load (None: a plain nginx); workers: worker
    processes of the rendered nginx.conf."""

    module = MODULE
    workers = 2
    nginx_env = None            # the environment of the last start
    nginx_wrapper = None        # its command prefix (faketime, valgrind)
    nginx_launcher = None       # the Popen of that start

    @property
    def nginx_dir(self):
        return os.path.join(self.root, "nginx")

    @property
    def nginx_conf(self):
        return os.path.join(self.nginx_dir, "nginx.conf")

    @property
    def error_log(self):
        return os.path.join(self.nginx_dir, "error.log")

    @property
    def access_log(self):
        return os.path.join(self.nginx_dir, "access.log")

    # beside nginx.conf, where conf/dukcapil-api.conf looks for them
    @property
    def htpasswd(self):
        return os.path.join(self.nginx_dir, "dukcapil-ops.htpasswd")

    @property
    def ops_access(self):
        return os.path.join(self.nginx_dir, "dukcapil-ops-access.conf")

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
                          booking_window=14, phone_cap=5, module=None,
                          pg_conninfo=None, redis_auth=None,
                          phone_verification=False, token_secret=None,
                          phone_active_cap=100, redis_sentinel=None):
        """The demo nginx.conf for this stack, as text.

        module=False (or a missing module file when module is None and the
        default is used) leaves out load_module and every dukcapil_ line: a
        plain nginx, to try the stack before the module exists.
        redis_auth: the file of dukcapil_redis_auth (default: the stack's,
        redis_auth_file); False: no such line (Redis then refuses the
        module).
        phone_verification: dukcapil_phone_verification on (bookings and
        submissions need a phone_token); off by default here, since most
        tests book without one (make run's demo turns it on).
        token_secret: the file of dukcapil_token_secret (default: the
        stack's, token_secret_file); False: no such line.
        phone_active_cap: dukcapil_phone_active_cap, 100 here (tests book
        many dates with one phone; the module's default, 3, is make run's).
        redis_sentinel: "IP:port ... master_name": dukcapil_redis_sentinel
        in place of dukcapil_redis (the master asked of the Sentinels)."""
        module = self.module if module is None else module
        if redis_auth is None:
            redis_auth = self.redis_auth_file
        if token_secret is None:
            token_secret = self.token_secret_file
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
            "REDIS_AUTH": "    dukcapil_redis_auth            %s;" % redis_auth
                          if redis_auth else "",
            "PG_CONNINFO": pg_conninfo or "hostaddr=127.0.0.1 port=%d "
                           "dbname=dukcapil user=dukcapil" % self.pg_port,
            "HTTP_PORT": self.http_port,
            "API_CONF": os.path.join(REPO, "conf", "dukcapil-api.conf"),
            "PORTAL_CONF": os.path.join(REPO, "conf", "dukcapil-portal.conf"),
            "PORTAL_ROOT": os.path.join(REPO, "portal"),
            "OFFICES": "\n".join('    dukcapil_office  %s "%s";' % o
                                 for o in offices),
            "SERVICES": "\n".join('    dukcapil_service %s "%s" %d;' % s
                                  for s in services),
            "CLOSED_WEEKDAYS": closed_weekdays,
            "BOOKING_WINDOW": booking_window,
            "PHONE_CAP": phone_cap,
            "TOKEN_SECRET": "    dukcapil_token_secret          %s;"
                            % token_secret if token_secret else "",
            "PHONE_VERIFICATION": "on" if phone_verification else "off",
            "PHONE_ACTIVE_CAP": phone_active_cap,
            "EXTRA_HTTP": extra_http,
            "EXTRA_SERVER": extra_server,
        })
        if redis_sentinel:
            text = re.sub(r"dukcapil_redis +127\.0\.0\.1:\d+;",
                          "dukcapil_redis_sentinel        %s;"
                          % redis_sentinel, text)
        if not module:
            # the log format's variables are the module's: nginx's own then
            for ours, theirs in (("$dukcapil_log_user", "$remote_user"),
                                 ("$dukcapil_log_uri", "$uri"),
                                 ("$dukcapil_log_agent", "$http_user_agent")):
                text = text.replace(ours, theirs)
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

    def nginx_cmd(self, *args, conf=None, error_log=None):
        return [NGINX, "-p", self.nginx_dir + "/", "-c", conf or self.nginx_conf,
                "-e", error_log or self.error_log] + list(args)

    def nginx_test(self, conf_text, name="test.conf"):
        """`nginx -t` of a configuration text; returns (exit code, output,
        path of the file it was written to)."""
        self._nginx_dirs()
        self._ensure_htpasswd()
        path = os.path.join(self.nginx_dir, name)
        with open(path, "w") as f:
            f.write(conf_text)
        # its own log: a refused configuration's [emerg] is the test's
        # answer, not an alert of the running nginx (assert_no_alerts)
        r = subprocess.run(self.nginx_cmd("-t", conf=path,
                                          error_log=path + ".error.log"),
                           text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=environ(self.nginx_env))
        return r.returncode, r.stdout, path

    def nginx_pid(self):
        pid = read_pid(os.path.join(self.nginx_dir, "nginx.pid"))
        return pid if pid_alive(pid) else None

    def nginx_running(self):
        return self.nginx_pid() is not None

    def worker_pids(self):
        master = self.nginx_pid()
        return child_pids(master) if master else []

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
                stdout=log, stderr=log, env=environ(env),
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
        # the master listens before it has forked every worker (slowly
        # under ASan): a test that notes the workers' pids needs them all
        wanted = workers or self.workers
        wait_until(lambda: len(self.worker_pids()) >= wanted, 60,
                   what="%d nginx workers" % wanted)

    def reload_nginx(self, wait=True, timeout=30):
        """nginx -s reload; with wait, until the old workers have exited and
        the new ones run."""
        old = set(self.worker_pids())
        run(self.nginx_cmd("-s", "reload"), "nginx -s reload",
            env=environ(self.nginx_env))
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
                       env=environ(self.nginx_env))
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
