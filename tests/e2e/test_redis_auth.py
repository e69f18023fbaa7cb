"""Issue 11, finding 5: the module gives Redis its credentials.

dukcapil_redis_auth names a file of "user password" that nginx reads with
its configuration (nginx -t checks it); every connection of a worker sends
AUTH first. Redis, with the users of conf/redis-users.acl, lets that user run
the commands the module and the scheduler send and nothing else. The secret
never reaches a log.
"""

import os
import re
import secrets
import subprocess
import time

import pytest
import redis

from conftest import (REPO, StackError, assert_no_alerts, assert_no_crashes,
                      wait_until)
from stack.base import environ
from helpers import HEALTH, http_for
from appointments_helpers import BOOK, booking, first_open_date
from test_foundation import ASAN_MODULES, asan_runtime, sanitizer_findings

USERS_ACL = os.path.join(REPO, "conf", "redis-users.acl")
LUA_DIRS = [os.path.join(REPO, "ngx_dukcapil_module", "lua"),
            os.path.join(REPO, "scheduler", "lua")]
# the back-off's ceiling (NGX_HTTP_DUKCAPIL_BACKOFF_MAX), and slack
BACK_WITHIN = 2.0 + 3.0
AUTH_FAILED = 'redis authentication as "dukcapil" failed'


def write_secret(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def acl_line(user):
    with open(USERS_ACL) as f:
        return next(l.split() for l in f if l.split()[:2] == ["user", user])


def acl_password(st, rule):
    """ACL SETUSER dukcapil >password (adds it) or <password (removes it)."""
    r = st.redis()
    try:
        assert r.execute_command("ACL", "SETUSER", "dukcapil", rule)
    finally:
        r.close()


def users_of(st):
    """The user of each connection to Redis but the admin's: "default" until
    it has authenticated."""
    r = st.redis(decode_responses=True)
    try:
        return [c["user"] for c in r.client_list() if c["user"] != "admin"]
    finally:
        r.close()


def logs_of(st):
    text = ""
    for path in (st.error_log, st.access_log):
        with open(path, errors="replace") as f:
            text += f.read()
    return text


# --- the stack as configured: the module is user dukcapil ---------------------

def test_the_module_books_as_redis_user_dukcapil(stack, http, clean_log):
    r = http.post(BOOK, booking(1, first_open_date()))
    assert r.status == 201, r

    # the workers' connections (one each): none as admin, none as default
    users = users_of(stack)
    assert users and set(users) == {"dukcapil"}, users
    assert len(users) <= stack.workers, users


def test_redis_refuses_a_connection_that_has_not_authenticated(stack):
    """The default user is off: a client without credentials runs nothing
    (which is also why what the module pipelines behind its AUTH never runs
    when AUTH is refused)."""
    r = stack.redis(username=None, password=None)
    try:
        with pytest.raises(redis.AuthenticationError,
                           match="Authentication required"):
            r.get("dk:epoch")
    finally:
        r.close()


@pytest.mark.parametrize("command", [
    ("FLUSHALL",),
    ("FLUSHDB",),
    ("CONFIG", "GET", "requirepass"),
    ("CONFIG", "SET", "appendonly", "no"),
    ("KEYS", "*"),
    ("DEBUG", "SLEEP", "0"),
    ("SHUTDOWN", "NOSAVE"),
    ("ACL", "LIST"),
    ("ACL", "SETUSER", "dukcapil", "+@all"),
    ("SCRIPT", "FLUSH"),
    ("MONITOR",),
    ("CLIENT", "KILL", "USER", "admin"),
    ("REPLICAOF", "127.0.0.1", "1"),
    ("EVAL", "return redis.call('FLUSHALL')", "0"),
    ("GET", "not-ours"),
    ("SET", "not-ours", "1"),
])
def test_user_dukcapil_may_not_run_what_neither_program_needs(stack, command):
    r = stack.redis(username="dukcapil", password=stack.redis_password())
    try:
        assert r.ping()
        r.get("dk:epoch")                       # what it may do, it does
        with pytest.raises(redis.ResponseError,
                           match="NOPERM|no permissions|can't run"):
            r.execute_command(*command)
    finally:
        r.close()
    admin = stack.redis()
    try:
        assert admin.exists("dk:epoch") == 1 and admin.ping()
    finally:
        admin.close()


def test_user_dukcapil_may_run_every_command_the_scripts_call():
    """The ACL grants each command book.lua, release.lua, reconcile.lua and
    epoch.lua call (Redis checks a script's calls against its caller's
    user), so that a script that calls a new one fails here, not at 07:00.
    The commands the C code sends are proven by the whole suite, which runs
    as this user."""
    granted = {w[1:].lower() for w in acl_line("dukcapil") if w[0] == "+"}
    assert "@all" not in granted and "-@all" in acl_line("dukcapil")
    called = set()
    for d in LUA_DIRS:
        for name in os.listdir(d):
            with open(os.path.join(d, name)) as f:
                called |= {c.lower() for c in re.findall(
                    r"redis\.p?call\(\s*'(\w+)'", f.read())}
    assert called, "no redis.call found in %s" % LUA_DIRS
    assert called <= granted, "not granted: %s" % sorted(called - granted)


# --- the file: nginx -t reads it ---------------------------------------------

@pytest.mark.parametrize("case, content, mode, reason", [
    ("missing", None, None, r'open\(\) "[^"]+" failed \(2: No such file'),
    ("folder", "dir", None, "is not a regular file"),
    ("open to others", "dukcapil s3cret-XYZ\n", 0o644,
     r"is open to other users \(mode & 007\): chmod o-rwx"),
    ("readable by others only", "dukcapil s3cret-XYZ\n", 0o604,
     "is open to other users"),
    ("empty", "", 0o600, "is empty"),
    ("two lines", "dukcapil\ns3cret-XYZ\n", 0o600, "has more than one line"),
    ("a user without a password", "dukcapil \n", 0o600,
     "starts or ends with a space"),
])
def test_a_credentials_file_nginx_cannot_use_fails_nginx_t_naming_it(
        stack, case, content, mode, reason):
    path = os.path.join(stack.root, "bad-%s.auth" % case.replace(" ", "-"))
    if content == "dir":
        os.makedirs(path, exist_ok=True)
    elif content is not None:
        write_secret(path, content, mode)

    rc, out, conf = stack.nginx_test(stack.render_nginx_conf(
        redis_auth=path))

    assert rc != 0, out
    line = next((l for l in out.splitlines() if "[emerg]" in l), out)
    assert "dukcapil_redis_auth" in line and path in line, line
    assert re.search(reason, line), line
    assert re.search(r" in %s:\d+$" % re.escape(conf), line), line
    assert "s3cret-XYZ" not in out


def test_a_relative_file_is_found_beside_nginx_conf(stack):
    write_secret(os.path.join(stack.nginx_dir, "redis.auth"),
                 open(stack.redis_auth_file).read())
    rc, out, _ = stack.nginx_test(stack.render_nginx_conf(
        redis_auth="redis.auth"))
    assert rc == 0, out
    assert stack.redis_password() not in out


# --- a password Redis refuses ---------------------------------------------------

def asan_env(st):
    """The module under ASan when it is built (the refusal frees hiredis's
    context inside its own callback): (module, environment, folder)."""
    module = next((m for m in ASAN_MODULES if os.path.exists(m)), None)
    if module is None:
        return None, None, None
    folder = os.path.join(st.root, "asan")
    os.makedirs(folder, exist_ok=True)
    return module, {
        "LD_PRELOAD": "%s %s" % (asan_runtime(), module),
        "ASAN_OPTIONS": "detect_leaks=1:exitcode=0:fast_unwind_on_malloc=0:"
                        "malloc_context_size=40:log_path=%s/asan" % folder,
        "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s/ubsan" % folder,
    }, folder


def stop_nginx(st, asan_dir):
    """nginx -s quit. Under ASan a worker hangs once LeakSanitizer has
    written its report at exit: stop waiting for it then."""
    if not asan_dir:
        st.stop_nginx()
        return
    workers = st.worker_pids()
    subprocess.run(st.nginx_cmd("-s", "quit"), capture_output=True,
                   env=environ(st.nginx_env))
    try:
        wait_until(lambda: all(os.path.exists(os.path.join(
            asan_dir, "asan.%d" % pid)) for pid in workers), 30,
            interval=0.2, what="LeakSanitizer's reports")
    except StackError:
        pass
    time.sleep(0.5)
    st.stop_nginx(timeout=1)


def test_a_refused_password_answers_503_then_the_module_recovers_alone(
        make_stack):
    """nginx -t passes (the file is fine; only Redis can say the password is
    wrong). Requests are answered 503 unavailable at once, health names
    Redis, error.log says why without the password, the worker asks again
    ever more slowly; once Redis accepts that password (ACL SETUSER), the
    same workers book within the back-off, without a restart."""
    st = make_stack(nginx=False)
    module, env, asan_dir = asan_env(st)
    if module:
        st.module = module
        st.nginx_env = env                      # nginx -t's too
    wrong = "wrong-" + secrets.token_hex(8)
    path = write_secret(os.path.join(st.root, "wrong.auth"),
                        "dukcapil %s\n" % wrong)

    rc, out, _ = st.nginx_test(st.render_nginx_conf(redis_auth=path))
    assert rc == 0, out

    st.start_nginx(redis_auth=path, env=env)
    mark = st.error_log_size()
    workers = st.worker_pids()
    http = http_for(st)
    date = first_open_date()

    for i in range(5):
        start = time.monotonic()
        r = http.post(BOOK, booking(i, date))
        assert r.status == 503 and r.error == "unavailable", r
        assert time.monotonic() - start < 1.0, "a booking waited"
        r = http.get(HEALTH)
        assert r.status == 503 and r.json()["redis"] == "down", r
        time.sleep(0.3)

    wait_until(lambda: sum(AUTH_FAILED in l for l in
                           st.error_log_lines(mark)) >= 2 * len(workers),
               10, what="each worker to log a refusal twice")
    refusals = [l for l in st.error_log_lines(mark) if AUTH_FAILED in l]
    assert all("[error]" in l and "WRONGPASS" in l and path in l
               for l in refusals), refusals[:3]
    # asked again after a back-off that grows (100 ms ... 2 s), not in a loop
    time.sleep(3)
    tries = sum(AUTH_FAILED in l for l in st.error_log_lines(mark))
    assert tries <= 12 * len(workers), "%d refusals in ~6 s" % tries

    # Redis now takes that password too: the workers come back on their own
    acl_password(st, ">" + wrong)
    try:
        authenticated(st, len(workers))
        assert http.get(HEALTH).status == 200
        r = http.post(BOOK, booking(100, date))
        assert r.status == 201, r
        assert st.worker_pids() == workers, "a worker was restarted"
    finally:
        acl_password(st, "<" + wrong)

    assert_no_alerts(st, mark)
    assert_no_crashes(st, mark)
    stop_nginx(st, asan_dir)                    # flushes the access log
    text = logs_of(st)
    assert wrong not in text and st.redis_password() not in text
    if asan_dir:
        findings = sanitizer_findings(asan_dir)
        assert not findings, "%d sanitizer findings:\n%s" % (
            len(findings), "\n".join(findings[:5])[:8000])


def authenticated(st, n):
    wait_until(lambda: users_of(st).count("dukcapil") == n, BACK_WITHIN,
               interval=0.1, what="%d connections as dukcapil" % n)


def test_credentials_are_added_then_rotated_by_a_reload(make_stack):
    """Without dukcapil_redis_auth Redis refuses the module (nothing runs
    unauthenticated): 503. The directive added, a reload is enough. Then
    a new password: Redis takes both for a while, the file gets the new one,
    a reload; once the old one is removed and the connections are cut, the
    workers come back with the new one."""
    st = make_stack(redis_auth=False)
    http = http_for(st)
    date = first_open_date()
    r = http.post(BOOK, booking(1, date))
    assert r.status == 503 and r.error == "unavailable", r
    assert http.get(HEALTH).json()["redis"] == "down"

    path = write_secret(os.path.join(st.root, "rotating.auth"),
                        open(st.redis_auth_file).read())
    with open(st.nginx_conf, "w") as f:
        f.write(st.render_nginx_conf(redis_auth=path))
    st.reload_nginx()
    authenticated(st, st.workers)
    assert http.post(BOOK, booking(2, date)).status == 201

    old, new = st.redis_password(), secrets.token_hex(20)
    acl_password(st, ">" + new)
    write_secret(path, "dukcapil %s\n" % new)
    st.reload_nginx()
    acl_password(st, "<" + old)
    admin = st.redis()
    try:
        admin.execute_command("CLIENT", "KILL", "USER", "dukcapil")
    finally:
        admin.close()
    authenticated(st, st.workers)
    assert http.post(BOOK, booking(3, date)).status == 201
    assert old not in logs_of(st) and new not in logs_of(st)


def test_the_production_examples_authenticate_and_leave_the_default_user_off():
    with open(os.path.join(REPO, "conf", "nginx.conf")) as f:
        nginx = f.read()
    assert re.search(r"^\s*dukcapil_redis_auth\s+/\S+;", nginx, re.M)
    with open(os.path.join(REPO, "conf", "redis.conf")) as f:
        conf = [l.split() for l in f if l.strip() and l[0] != "#"]
    assert ["aclfile", "/etc/redis/dukcapil-users.acl"] in conf
    assert not [l for l in conf if l[0] in ("requirepass", "user")]
    assert acl_line("default")[2] == "off"
    # no password ships: each is a placeholder Redis refuses to load
    for user in ("dukcapil", "admin"):
        assert "#SHA256_OF_THE_PASSWORD" in acl_line(user)
