"""The Debian packages (debian/, `make deb`) on this machine: built once,
installed with dpkg -i, nginx -t of the machine's own nginx with the packaged
module and site, the scheduler started the way its systemd unit starts it,
the migrations applied and refused backwards, then purged, leaving nothing.

Needs root and dpkg-buildpackage (CI: Debian 12, as root). For its duration
it changes /etc/nginx, /etc/dukcapil and /etc/ssl/dukcapil; it puts back what
it found and never starts the machine's nginx. DUKCAPIL_DEB_DIR=build/deb
uses packages built before instead of building them.
"""

import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, Stack, new_stack_dir, wait_until

PACKAGES = ["libnginx-mod-http-dukcapil", "dukcapil-scheduler",
            "dukcapil-portal", "dukcapil-migrations"]
MODULE_SO = "/usr/lib/nginx/modules/ngx_http_dukcapil_module.so"
MODULE_LINK = "/etc/nginx/modules-enabled/50-mod-http-dukcapil.conf"
SITE_LINK = "/etc/nginx/sites-enabled/dukcapil"
UNIT = "/lib/systemd/system/dukcapil-scheduler.service"
ABI_FILE = "/usr/share/nginx/src/debian/libnginx-mod.abisubstvars"

# the secrets an operator creates before the site is enabled (README.md,
# "Deploying"), and what nginx -t creates
TEST_CONFIG = "/etc/dukcapil/scheduler-test.yaml"
SECRETS = ["/etc/dukcapil/redis.auth", "/etc/dukcapil/token.secret",
           "/etc/dukcapil/gateway.token", TEST_CONFIG,
           "/etc/nginx/dukcapil-ops.htpasswd",
           "/etc/ssl/dukcapil/fullchain.pem", "/etc/ssl/dukcapil/privkey.pem"]
CREATED_BY_NGINX_T = ["/var/log/nginx/dukcapil-access.log"]

pytestmark = [
    pytest.mark.skipif(shutil.which("dpkg-buildpackage") is None,
                       reason="dpkg-buildpackage missing (make deps installs "
                              "dpkg-dev, debhelper, fakeroot, lintian)"),
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="installs packages with dpkg -i: needs root"),
]


def sh(cmd, timeout=60, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    if check:
        assert r.returncode == 0, "%s: exit %d\n%s%s" % (
            " ".join(cmd), r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r


def installed(package):
    r = sh(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
           check=False)
    return r.returncode == 0 and r.stdout.startswith("ii")


def known(package):
    """Installed, or removed with its conffiles left."""
    r = sh(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
           check=False)
    return r.returncode == 0 and r.stdout[:2] in ("ii", "rc", "iU", "iF")


def purge():
    present = [p for p in PACKAGES if known(p)]
    if present:
        sh(["dpkg", "--purge"] + present, timeout=120)


def remove_test_files():
    for path in [SITE_LINK] + SECRETS + CREATED_BY_NGINX_T:
        if os.path.lexists(path):
            os.unlink(path)
    # what a purge leaves when the operator's secrets were still there
    for d in ("/etc/ssl/dukcapil", "/etc/dukcapil"):
        if os.path.isdir(d) and not os.listdir(d) and not known(
                "dukcapil-scheduler"):
            os.rmdir(d)


def build_packages():
    prebuilt = os.environ.get("DUKCAPIL_DEB_DIR")
    if prebuilt:
        out = os.path.join(REPO, prebuilt)
    else:
        # make deb: dpkg-buildpackage, then lintian (no error, no warning)
        sh(["make", "-s", "--no-print-directory", "deb"], timeout=600,
           cwd=REPO)
        out = os.path.join(REPO, "build", "deb")
    debs = {}
    for name in os.listdir(out):
        m = re.match(r"^([a-z0-9.+-]+)_[^_]+_(amd64|all|arm64)\.deb$", name)
        if m and m.group(1) in PACKAGES:
            debs[m.group(1)] = os.path.join(out, name)
    assert sorted(debs) == sorted(PACKAGES), "packages in %s: %s" % (
        out, sorted(os.listdir(out)))
    return debs


@pytest.fixture(scope="module")
def debs():
    already = [p for p in PACKAGES if installed(p)]
    if already:
        pytest.skip("already installed on this machine, which the test "
                    "would purge: %s" % " ".join(already))
    modules_enabled = sorted(os.listdir("/etc/nginx/modules-enabled"))
    built = build_packages()
    try:
        sh(["dpkg", "-i"] + [built[p] for p in PACKAGES], timeout=180)
        yield built
    finally:
        remove_test_files()
        purge()
        assert sorted(os.listdir("/etc/nginx/modules-enabled")) == \
            modules_enabled


@pytest.fixture(scope="module")
def secrets(debs):
    """The secrets of "Deploying", made as an operator makes them."""
    group = grp.getgrnam("dukcapil").gr_gid
    with open("/etc/dukcapil/redis.auth", "w") as f:
        f.write("dukcapil %s\n" % os.urandom(16).hex())
    os.chown("/etc/dukcapil/redis.auth", 0, group)
    os.chmod("/etc/dukcapil/redis.auth", 0o640)
    fd = os.open("/etc/dukcapil/token.secret",
                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, (os.urandom(32).hex() + "\n").encode())
    os.close(fd)
    subprocess.run(["htpasswd", "-ciB", "/etc/nginx/dukcapil-ops.htpasswd",
                    "petugas"], input="rahasia-uji\n", text=True, check=True,
                   capture_output=True, timeout=30)
    os.makedirs("/etc/ssl/dukcapil", exist_ok=True)
    sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-days", "2", "-subj", "/CN=layanan.disdukcapil.pekanbaru.go.id",
        "-keyout", "/etc/ssl/dukcapil/privkey.pem",
        "-out", "/etc/ssl/dukcapil/fullchain.pem"])
    os.chmod("/etc/ssl/dukcapil/privkey.pem", 0o600)
    yield
    remove_test_files()


def test_module_package_depends_on_the_exact_nginx_abi(debs):
    with open(ABI_FILE) as f:
        abi = re.search(r"^nginx:abi=(\S+)$", f.read(), re.M).group(1)
    depends = sh(["dpkg-deb", "-f", debs["libnginx-mod-http-dukcapil"],
                  "Depends"]).stdout
    assert abi in [d.strip() for d in depends.split(",")], depends


def test_module_is_enabled_through_modules_enabled(debs):
    assert os.path.isfile(MODULE_SO)
    assert os.path.islink(MODULE_LINK)
    target = os.path.realpath(MODULE_LINK)
    assert target == "/usr/share/nginx/modules-available/mod-http-dukcapil.conf"
    with open(target) as f:
        assert f.read().strip() == \
            "load_module modules/ngx_http_dukcapil_module.so;"


def test_portal_package_holds_every_page_of_portal(debs):
    source = os.path.join(REPO, "portal")
    if not os.path.isdir(source):
        pytest.skip("no portal/ in this tree: the package holds the site only")
    pages = sorted(os.path.relpath(os.path.join(d, n), source)
                   for d, _, names in os.walk(source) for n in names)
    assert pages
    for page in pages:
        assert os.path.isfile(os.path.join("/usr/share/dukcapil/portal", page)), \
            page


def test_nginx_t_passes_with_the_packaged_module_and_site(debs, secrets):
    os.symlink("../sites-available/dukcapil", SITE_LINK)
    r = sh(["nginx", "-t"], check=False)
    assert r.returncode == 0, r.stderr
    assert "test is successful" in r.stderr

    # the module really reads the site: a secret open to others is refused,
    # with its file and line
    os.chmod("/etc/dukcapil/token.secret", 0o644)
    try:
        r = sh(["nginx", "-t"], check=False)
    finally:
        os.chmod("/etc/dukcapil/token.secret", 0o600)
    assert r.returncode != 0
    assert "/etc/dukcapil/token.secret" in r.stderr
    assert "/etc/nginx/sites-enabled/dukcapil:" in r.stderr


def test_scheduler_package_user_conffile_and_unit(debs):
    user = pwd.getpwnam("dukcapil")
    assert user.pw_uid < 1000, "a system user"
    assert user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    assert grp.getgrgid(user.pw_gid).gr_name == "dukcapil"

    conffiles = sh(["dpkg-query", "-W", "-f=${Conffiles}",
                    "dukcapil-scheduler"]).stdout
    assert "/etc/dukcapil/scheduler.yaml" in conffiles

    with open(UNIT) as f:
        unit = f.read()
    for line in ("Type=notify", "User=dukcapil", "StateDirectory=dukcapil",
                 "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "PrivateTmp=yes", "ProtectHome=yes",
                 "ExecStart=/usr/bin/dukcapil-scheduler -c "
                 "/etc/dukcapil/scheduler.yaml run"):
        assert re.search("^%s" % re.escape(line), unit, re.M), line
    assert os.path.exists("/usr/share/man/man1/dukcapil-scheduler.1.gz")
    # installed disabled: the operator enables it once configured
    assert not os.path.exists(
        "/etc/systemd/system/multi-user.target.wants/"
        "dukcapil-scheduler.service")

    if shutil.which("systemd-analyze"):
        # man: the page is checked below, whether or not man-db is here
        r = sh(["systemd-analyze", "verify", "--man=no", UNIT], check=False,
               timeout=60)
        ours = [l for l in (r.stdout + r.stderr).splitlines()
                if "dukcapil-scheduler" in l]
        assert r.returncode == 0 and not ours, r.stdout + r.stderr


def test_migrate_then_scheduler_runs_as_its_unit_would(debs, secrets):
    st = Stack(new_stack_dir("dukcapil-deb-"), fast=True, persistence=False)
    work = tempfile.mkdtemp(prefix="dukcapil-deb-run-", dir="/tmp")
    try:
        st.start_postgres(migrate=False)
        st.start_redis()

        r = sh(["dukcapil-migrate", st.pg_conninfo], timeout=120)
        newest = max(int(n[:3]) for n in os.listdir(
            "/usr/share/dukcapil-migrations") if n.endswith(".sql"))
        assert "schema at version %d" % newest in r.stdout
        assert sh(["dukcapil-migrate", st.pg_conninfo]).returncode == 0

        _run_scheduler_as_the_unit(st, work)

        # a database from a newer release: refused, nothing changed
        st.psql("INSERT INTO schema_migration (version, name) "
                "VALUES (%d, 'from_a_newer_release')" % (newest + 90))
        before = st.psql("SELECT count(*) FROM schema_migration")
        r = sh(["dukcapil-migrate", st.pg_conninfo], check=False)
        assert r.returncode == 1
        assert "refusing to run backwards" in r.stderr
        assert "version %d" % (newest + 90) in r.stderr
        assert st.psql("SELECT count(*) FROM schema_migration") == before
    finally:
        st.destroy()
        shutil.rmtree(work, ignore_errors=True)


def _unit_exec(key):
    with open(UNIT) as f:
        return re.search(r"^%s=(.*)$" % key, f.read(), re.M).group(1).split()


def _scheduler_config(st):
    """The packaged conffile pointed at this test's servers, beside it (the
    unit's PrivateTmp= hides /tmp), with the credentials of the test's Redis
    in /etc/dukcapil/redis.auth; the outbox stays /var/lib/dukcapil/outbox,
    the unit's StateDirectory."""
    group = grp.getgrnam("dukcapil").gr_gid
    shutil.copyfile(st.redis_auth_file, "/etc/dukcapil/redis.auth")
    os.chown("/etc/dukcapil/redis.auth", 0, group)
    os.chmod("/etc/dukcapil/redis.auth", 0o640)
    # the SMS/WhatsApp gateway's bearer token the conffile names
    with open("/etc/dukcapil/gateway.token", "w") as f:
        f.write("test-gateway-token\n")
    os.chown("/etc/dukcapil/gateway.token", 0, group)
    os.chmod("/etc/dukcapil/gateway.token", 0o640)
    with open("/etc/dukcapil/scheduler.yaml") as f:
        yaml = f.read()
    yaml = re.sub(r'conninfo: ".*"', 'conninfo: "%s"' % st.pg_conninfo, yaml)
    yaml = re.sub(r'address: "127\.0\.0\.1:6379"',
                  'address: "127.0.0.1:%d"' % st.redis_port, yaml)
    with open(TEST_CONFIG, "w") as f:
        f.write(yaml)
    os.chown(TEST_CONFIG, 0, group)
    os.chmod(TEST_CONFIG, 0o640)


def _wait_for_a_run(st):
    # a slot missed while it was down runs once at start-up: it reached
    # PostgreSQL and Redis as user dukcapil
    wait_until(lambda: st.psql(
        "SELECT count(*) FROM scheduler_run WHERE outcome = 'ok'").strip()
        not in ("", "0"), timeout=30, interval=0.5,
        what="a run of the scheduler")


def _run_scheduler_as_the_unit(st, work):
    _scheduler_config(st)
    if os.path.isdir("/run/systemd/system"):
        _run_scheduler_with_systemd(st)
    else:
        _run_scheduler_like_systemd(st, work)


def _run_scheduler_with_systemd(st):
    """systemd is PID 1: the unit itself, its two Exec lines pointed at the
    test's configuration by a drop-in in /run."""
    dropin = "/run/systemd/system/dukcapil-scheduler.service.d"
    os.makedirs(dropin, exist_ok=True)
    with open(os.path.join(dropin, "test.conf"), "w") as f:
        f.write("[Service]\nExecStartPre=\nExecStartPre=%s\nExecStart=\n"
                "ExecStart=%s\n" % tuple(
                    " ".join(a.replace("/etc/dukcapil/scheduler.yaml",
                                       TEST_CONFIG) for a in _unit_exec(k))
                    for k in ("ExecStartPre", "ExecStart")))
    sh(["systemctl", "daemon-reload"])
    try:
        # Type=notify: start returns once the daemon said READY=1
        sh(["systemctl", "start", "dukcapil-scheduler"], timeout=90)
        assert sh(["systemctl", "is-active", "dukcapil-scheduler"],
                  check=False).stdout.strip() == "active"
        _wait_for_a_run(st)
        sh(["systemctl", "stop", "dukcapil-scheduler"], timeout=90)
        shown = sh(["systemctl", "show", "-p", "ExecMainStatus",
                    "dukcapil-scheduler"]).stdout.strip()
        assert shown == "ExecMainStatus=0", shown
        journal = sh(["journalctl", "-u", "dukcapil-scheduler", "-o", "cat",
                      "--no-pager"], check=False).stdout
        assert "event=daemon_stop" in journal
    finally:
        sh(["systemctl", "stop", "dukcapil-scheduler"], check=False,
           timeout=90)
        shutil.rmtree(dropin, ignore_errors=True)
        sh(["systemctl", "daemon-reload"], check=False)


def _run_scheduler_like_systemd(st, work):
    """systemd is not PID 1 (a container): the unit's own ExecStartPre and
    ExecStart lines, as its User and Group, with no new privileges, in the
    StateDirectory it would make, a NOTIFY_SOCKET for its READY=1, SIGTERM
    to stop."""
    user = pwd.getpwnam("dukcapil")
    for d in ("/var/lib/dukcapil", "/var/lib/dukcapil/outbox"):
        os.makedirs(d, exist_ok=True)
        os.chown(d, user.pw_uid, user.pw_gid)
        os.chmod(d, 0o750)
    as_user = ["setpriv", "--reuid=dukcapil", "--regid=dukcapil",
               "--init-groups", "--no-new-privs"]
    pre = [a.replace("/etc/dukcapil/scheduler.yaml", TEST_CONFIG)
           for a in _unit_exec("ExecStartPre")]
    sh(as_user + pre)

    os.chmod(work, 0o755)
    notify = os.path.join(work, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify)
    os.chown(notify, user.pw_uid, user.pw_gid)
    sock.settimeout(1)
    start = [a.replace("/etc/dukcapil/scheduler.yaml", TEST_CONFIG)
             for a in _unit_exec("ExecStart")]
    log = open(os.path.join(work, "scheduler.log"), "w+")
    env = {"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify}
    proc = subprocess.Popen(as_user + start, stdout=log, stderr=log, env=env,
                            stdin=subprocess.DEVNULL, cwd="/")
    try:
        messages = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and \
                not any("READY=1" in m for m in messages):
            try:
                messages.append(sock.recv(4096).decode())
            except socket.timeout:
                assert proc.poll() is None, "exited %s" % proc.returncode
        assert any("READY=1" in m for m in messages), messages
        _wait_for_a_run(st)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        sock.close()
    log.seek(0)
    lines = log.read()
    log.close()
    assert "event=daemon_start" in lines, lines[-2000:]
    assert "event=daemon_stop" in lines, lines[-2000:]


def test_purge_leaves_nothing(debs, secrets):
    purge()
    for p in PACKAGES:
        assert not known(p), p
    assert not [n for n in os.listdir("/etc/nginx/modules-enabled")
                if "dukcapil" in n]
    # the operator's link to the site goes with it (nginx would not start);
    # the operator's secrets stay, as every file the packages did not ship
    assert not os.path.lexists(SITE_LINK)
    for path in ("/etc/dukcapil/redis.auth", "/etc/dukcapil/token.secret"):
        assert os.path.exists(path), path
    for path in (MODULE_SO, "/etc/nginx/sites-available/dukcapil",
                 "/etc/nginx/dukcapil-api.conf", "/etc/dukcapil/scheduler.yaml",
                 "/var/lib/dukcapil", "/usr/bin/dukcapil-scheduler",
                 "/usr/bin/dukcapil-migrate", UNIT):
        assert not os.path.lexists(path), path
    # the user stays, locked and expired, so that its uid is never reused
    # for another account while a file it owned may remain
    uid = pwd.getpwnam("dukcapil").pw_uid
    assert shadow("dukcapil")[1].startswith("!")
    assert shadow("dukcapil")[7] == "1", "expired"
    assert pwd.getpwnam("dukcapil").pw_shell == "/usr/sbin/nologin"
    # the machine's nginx still starts without the module
    r = sh(["nginx", "-t"], check=False)
    assert r.returncode == 0, r.stderr

    # installed again: the same user, no longer expired
    sh(["dpkg", "-i", debs["dukcapil-scheduler"]], timeout=120)
    assert pwd.getpwnam("dukcapil").pw_uid == uid
    assert shadow("dukcapil")[7] == ""
    purge()
    assert shadow("dukcapil")[7] == "1"


def shadow(user):
    return sh(["getent", "shadow", user]).stdout.rstrip("\n").split(":")
