"""Issue 2, the foundation: the module loads, checks its configuration, and
talks to Redis and PostgreSQL without blocking, surviving their outages,
reloads, and clients that go away."""

import os
import re
import resource
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import REPO, assert_no_alerts, assert_no_crashes, wait_until
from stack import free_port
from helpers import (HEALTH, burst, health, health_ok, http_for,
                     parse_response, raw_request, request_bytes)

# What the demo configuration promises (conf/demo/nginx.conf.in):
REDIS_ANSWER_LIMIT = 1.0 + 0.5 + 1.0      # connect timeout + timeout + slack
PG_ANSWER_LIMIT = 2.0 + 1.0               # postgres timeout + slack
BACK_WITHIN = 5.0


def assert_health_ok(r):
    assert r.status == 200, r
    body = r.json()
    assert body["redis"] == "ok" and body["postgres"] == "ok", body


def time_until_healthy(st, limit=BACK_WITHIN, in_a_row=10):
    """Until `in_a_row` answers in a row are 200: each worker reconnects on
    its own, and one answer is one worker's view."""
    start = time.monotonic()
    oks = [0]

    def healthy():
        oks[0] = oks[0] + 1 if health_ok(st) else 0
        return oks[0] >= in_a_row

    wait_until(healthy, limit, interval=0.05,
               what="health to be 200 again, %d times in a row" % in_a_row)
    return time.monotonic() - start


# --- the module loads and checks its configuration -----------------------

def test_module_loads_and_config_test_passes(stack):
    rc, out, _ = stack.nginx_test(open(stack.nginx_conf).read())
    assert rc == 0, out
    assert "test is successful" in out
    assert stack.nginx_running()
    assert len(stack.worker_pids()) == 2
    assert_no_alerts(stack)
    r = http_for(stack).get("/ceiling")
    assert r.status == 200 and r.body == b"ok\n"


def replace_directive(text, head, new_line):
    """Replace the one line whose first tokens are `head` (e.g.
    "dukcapil_redis" or "dukcapil_service ktp") by new_line."""
    want = head.split()
    out, hits = [], 0
    for line in text.split("\n"):
        tokens = line.strip().rstrip(";").split()
        if tokens[:len(want)] == want:
            indent = line[:len(line) - len(line.lstrip())]
            line = indent + new_line
            hits += 1
        out.append(line)
    assert hits == 1, "%r found %d times in the demo nginx.conf" % (head, hits)
    return "\n".join(out)


# (id, directive named in the message, line to replace or None to add, bad line)
BAD_DIRECTIVES = [
    ("redis-host-name", "dukcapil_redis", "dukcapil_redis",
     "dukcapil_redis localhost:6379;"),
    ("redis-port-too-big", "dukcapil_redis", "dukcapil_redis",
     "dukcapil_redis 127.0.0.1:70000;"),
    ("redis-port-not-number", "dukcapil_redis", "dukcapil_redis",
     "dukcapil_redis 127.0.0.1:abc;"),
    ("postgres-pool-0", "dukcapil_postgres_pool", "dukcapil_postgres_pool",
     "dukcapil_postgres_pool 0;"),
    ("booking-window-negative", "dukcapil_booking_window",
     "dukcapil_booking_window", "dukcapil_booking_window -1;"),
    ("booking-window-abc", "dukcapil_booking_window",
     "dukcapil_booking_window", "dukcapil_booking_window abc;"),
    ("service-unknown-code", "dukcapil_service", None,
     'dukcapil_service paspor "Paspor" 10;'),
    ("service-negative-quota", "dukcapil_service", "dukcapil_service ktp",
     'dukcapil_service ktp "KTP-el" -5;'),
    ("office-duplicate", "dukcapil_office", None,
     'dukcapil_office mpp "Mal Pelayanan Publik";'),
    ("closed-weekdays-xyz", "dukcapil_closed_weekdays",
     "dukcapil_closed_weekdays", "dukcapil_closed_weekdays xyz;"),
    ("endpoint-nonsense", "dukcapil_endpoint", None,
     "location = /nonsense { dukcapil_endpoint nonsense; }"),
    ("redis-timeout-0", "dukcapil_redis_timeout", "dukcapil_redis_timeout",
     "dukcapil_redis_timeout 0;"),
]


@pytest.mark.parametrize("directive,replace,bad",
                         [b[1:] for b in BAD_DIRECTIVES],
                         ids=[b[0] for b in BAD_DIRECTIVES])
def test_config_test_rejects_bad_value(stack, directive, replace, bad):
    if replace:
        text = replace_directive(stack.render_nginx_conf(), replace, bad)
    elif directive == "dukcapil_endpoint":
        text = stack.render_nginx_conf(extra_server="        " + bad)
    else:
        text = stack.render_nginx_conf(extra_http="    " + bad)
    lines = text.split("\n")
    lineno = [i for i, l in enumerate(lines, 1) if l.strip() == bad]
    assert len(lineno) == 1

    rc, out, path = stack.nginx_test(text, name="bad.conf")

    assert rc != 0, "nginx -t accepted %r:\n%s" % (bad, out)
    assert "[emerg]" in out, out
    assert directive in out, "the message does not name %s:\n%s" % (directive,
                                                                     out)
    assert "%s:%d" % (path, lineno[0]) in out, \
        "the message does not give %s:%d:\n%s" % (path, lineno[0], out)


@pytest.mark.parametrize("auth", [
    "", "auth_basic off;", 'auth_basic "Petugas";',
    "auth_basic $http_x_realm; auth_basic_user_file %(htpasswd)s;",
    'auth_basic "Petugas"; auth_basic_user_file %(htpasswd)s; '
    "satisfy any; allow 127.0.0.1; deny all;"],
    ids=["none", "off", "no-user-file", "variable-realm", "satisfy-any"])
def test_an_operators_endpoint_without_authentication_fails_nginx_t(stack,
                                                                    auth):
    """`dukcapil_endpoint ops_*` where auth_basic does not apply (none, off,
    no user file, a realm a request could turn off) or need not (`satisfy
    any`: an allowed address skips the password) is refused by `nginx -t`,
    with the file and the line: the audit trail's actor is only ever one
    nginx verified."""
    auth = auth % {"htpasswd": stack.htpasswd}
    line = "location = /open-ops { %s dukcapil_endpoint ops_quota; }" % auth
    text = stack.render_nginx_conf(extra_server="        " + line)
    lineno = [i for i, l in enumerate(text.split("\n"), 1)
              if l.strip() == line]

    rc, out, path = stack.nginx_test(text, name="open-ops.conf")

    assert rc != 0, "nginx -t accepted an open ops endpoint:\n" + out
    assert "[emerg]" in out and "ops_quota" in out, out
    assert "%s:%d" % (path, lineno[0]) in out, out

    # the same location with authentication passes
    guarded = line.replace(auth + " ", "") if auth else line
    guarded = guarded.replace("{ ", '{ auth_basic "Petugas"; '
                              "auth_basic_user_file %s; " % stack.htpasswd)
    text = stack.render_nginx_conf(extra_server="        " + guarded)
    rc, out, _ = stack.nginx_test(text, name="guarded-ops.conf")
    assert rc == 0, out


def test_services_lists_offices_and_services_with_quotas(http):
    import stack as stackmod

    r = http.get("/api/v1/services")

    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert [(o["code"], o["name"]) for o in body["offices"]] == \
        list(stackmod.OFFICES)
    assert [(s["code"], s["name"], s["quota"]) for s in body["services"]] == \
        list(stackmod.SERVICES)


# --- health, and outages of Redis and PostgreSQL ---------------------------

def test_health_is_ok_when_redis_and_postgres_are_up(stack, clean_log):
    r = health(stack)
    assert_health_ok(r)
    assert r.headers["content-type"].startswith("application/json")


def assert_names_down(r, down, up):
    assert r.status == 503, r
    body = r.json()
    assert body[down] != "ok", body
    assert body[up] == "ok", body


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_health_names_redis_when_it_is_down_and_recovers(stack, clean_log,
                                                          how):
    assert_health_ok(health(stack))
    workers = stack.worker_pids()

    if how == "stopped":
        stack.stop_redis()
    else:
        stack.freeze_redis()
    try:
        for _ in range(3):
            r = health(stack)
            assert_names_down(r, "redis", "postgres")
            assert r.elapsed < REDIS_ANSWER_LIMIT, r.elapsed
    finally:
        if how == "stopped":
            stack.start_redis()
        else:
            stack.thaw_redis()

    time_until_healthy(stack)
    assert_health_ok(health(stack))
    assert stack.worker_pids() == workers, "a worker was restarted"


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_health_names_postgres_when_it_is_down_and_recovers(stack, clean_log,
                                                             how):
    assert_health_ok(health(stack))
    workers = stack.worker_pids()

    if how == "stopped":
        stack.stop_postgres()
    else:
        stack.freeze_postgres()
    try:
        for _ in range(3):
            r = health(stack)
            assert_names_down(r, "postgres", "redis")
            assert r.elapsed < PG_ANSWER_LIMIT, r.elapsed
    finally:
        if how == "stopped":
            stack.start_postgres(migrate=False)
        else:
            stack.thaw_postgres()

    time_until_healthy(stack)
    assert_health_ok(health(stack))
    assert stack.worker_pids() == workers, "a worker was restarted"


# --- concurrency and reload -------------------------------------------------

REQUEST = request_bytes("GET", HEALTH)


def is_ok_health(r):
    return r.status == 200 and re.search(rb'"redis"\s*:\s*"ok"', r.body) and \
        re.search(rb'"postgres"\s*:\s*"ok"', r.body)


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def test_2000_concurrent_health_requests_all_answered(stack, clean_log):
    raise_fd_limit(4096 + 2000)
    workers = stack.worker_pids()

    # 2000 connections opened, then 2000 requests in flight together
    answers = burst([(stack.http_port, REQUEST)] * 2000, timeout=60)

    bad = [a for a in answers if isinstance(a, Exception) or
           not is_ok_health(a)]
    assert not bad, "%d of 2000 failed, e.g. %r" % (len(bad), bad[:3])
    assert stack.worker_pids() == workers


def load(port, stop, results, concurrency=32):
    """Health requests, a new connection each, until stop is set."""
    def client():
        while not stop.is_set():
            try:
                data = raw_request(port, REQUEST)
                results.append(data if is_ok_health(parse_response(data))
                               else ("bad answer", data[:300]))
            except (OSError, ValueError, IndexError) as e:   # or no HTTP
                results.append(("error", repr(e)))

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    return threads


def test_reload_during_load_fails_no_request(stack, clean_log):
    mark = stack.error_log_size()
    stop, results = threading.Event(), []
    threads = load(stack.http_port, stop, results)
    try:
        time.sleep(0.5)
        for _ in range(2):
            stack.reload_nginx(wait=False)
            time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(30)

    failed = [r for r in results if isinstance(r, tuple)]
    assert len(results) > 100, "too little load: %d requests" % len(results)
    assert not failed, "%d of %d failed, e.g. %r" % (len(failed), len(results),
                                                    failed[:3])
    # Old workers must exit on their own: nothing of theirs left open.
    wait_until(lambda: len(stack.worker_pids()) == 2, 15, interval=0.1,
               what="the old workers to exit after reload")
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)
    assert_health_ok(health(stack))


# --- a client that goes away while its request waits ---------------------

def send_and_abandon(port, n, wait, reset):
    """n health requests; close each after `wait` seconds without reading
    (with an RST when reset, else a FIN)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(REQUEST)
        socks.append(s)
    time.sleep(wait)
    for s in socks:
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        s.close()


# What the health endpoint runs, as Redis and pg_stat_statements count it.
HEALTH_PING, HEALTH_SELECT = "ping", "SELECT $1"
POOL = 4                # dukcapil_postgres_pool of conf/demo/nginx.conf.in


def module_pg_connections(st):
    """The nginx workers' idle PostgreSQL connections."""
    return int(st.psql("SELECT count(*) FROM pg_stat_activity WHERE usename"
                       " = 'dukcapil' AND state = 'idle' AND application_name"
                       " = '' AND pid <> pg_backend_pid()"))


def abandon_while_redis_is_slow(st):
    """20 health requests whose clients leave while Redis sleeps: each sent
    its PING before it was abandoned, and Redis runs them all on waking."""
    pings = st.command_calls(HEALTH_PING)
    r = st.redis(socket_timeout=5)

    def slow():
        r.execute_command("DEBUG", "SLEEP", "0.3")   # below the 500ms timeout

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.05)
    send_and_abandon(st.http_port, 10, 0.1, reset=False)
    send_and_abandon(st.http_port, 10, 0.05, reset=True)
    t.join()
    r.close()
    wait_until(lambda: st.command_calls(HEALTH_PING) - pings >= 20, 5,
               what="Redis to run the 20 abandoned requests' PINGs")


def abandon_while_postgres_is_frozen(st):
    """20 health requests whose clients leave while PostgreSQL is frozen.
    Those that had a connection sent their SELECT 1, which PostgreSQL runs
    once thawed; the others waited in the queue and are dropped with their
    client. With every connection of both workers idle before, the first 10
    requests have at least POOL connections between them."""
    workers = len(st.worker_pids())
    wait_until(lambda: module_pg_connections(st) >= workers * POOL, 10,
               what="the workers' PostgreSQL connections")
    selects = st.statement_calls(HEALTH_SELECT)
    st.freeze_postgres()
    try:
        send_and_abandon(st.http_port, 10, 0.2, reset=False)
        send_and_abandon(st.http_port, 10, 0.1, reset=True)
        time.sleep(0.2)                       # below the 2 s timeout
    finally:
        st.thaw_postgres()
    wait_until(lambda: st.statement_calls(HEALTH_SELECT) - selects >= POOL,
               5, what="PostgreSQL to run the abandoned requests' SELECT 1")


def check_abandoned_requests_left_nothing(st, mark, workers):
    time.sleep(0.5)                           # the late replies arrive
    time_until_healthy(st)
    for _ in range(20):
        assert_health_ok(health(st))
    lines = st.error_log_lines(mark)
    errors = [l for l in lines if re.search(r"\[(error|crit|alert|emerg)\]",
                                            l)]
    assert not errors, "".join(errors[:20])
    assert_no_crashes(st, mark)
    assert st.worker_pids() == workers, "a worker was restarted"


@pytest.mark.parametrize("abandon", [abandon_while_redis_is_slow,
                                     abandon_while_postgres_is_frozen],
                         ids=["redis-slow", "postgres-frozen"])
def test_client_gone_while_waiting_leaves_no_error(stack, abandon):
    mark = stack.error_log_size()
    workers = stack.worker_pids()

    abandon(stack)

    check_abandoned_requests_left_nothing(stack, mark, workers)


ASAN_MODULES = [
    os.environ.get("DUKCAPIL_ASAN_MODULE", "/nonexistent"),
    os.path.join(REPO, "build", "ngx_http_dukcapil_module-address.so"),
    os.path.join(REPO, "build", "nginx-address", "objs",
                 "ngx_http_dukcapil_module.so"),
]


def asan_runtime():
    return subprocess.run(["gcc", "-print-file-name=libasan.so"],
                          capture_output=True, text=True).stdout.strip()


# Frames that belong to the module or the libraries it drives. nginx itself
# (Debian's binary) leaves its cycle allocated at exit; that is not ours.
# The module is preloaded so that nginx's dlclose() at exit does not leave its
# frames as "<unknown module>"; such frames count as ours all the same.
OURS = re.compile(r"dukcapil|hiredis|libpq|jansson|redis[A-Z]|PQ[a-z]|"
                  r"<unknown module>|" + re.escape(REPO + "/"))


def sanitizer_findings(folder):
    """Sanitizer reports that concern us: every ASan error (use after free,
    overflow ...) and UBSan runtime error, and the leaks whose allocation
    stack passes through the module or hiredis/libpq/jansson."""
    findings = []
    for name in sorted(os.listdir(folder)):
        text = open(os.path.join(folder, name), errors="replace").read()
        if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
            findings.append("%s:\n%s" % (name, text))
            continue
        for block in re.split(r"\n(?=(?:Direct|Indirect) leak)", text):
            if "leak of" in block.split("\n", 1)[0] and OURS.search(block):
                findings.append("%s:\n%s" % (name, block))
    return findings


def test_client_gone_while_waiting_leaks_nothing_under_asan(make_stack):
    module = next((m for m in ASAN_MODULES if os.path.exists(m)), None)
    if module is None:
        msg = "no ASan module: make SANITIZE=address module (%s)" % \
            ASAN_MODULES[1]
        if os.environ.get("DUKCAPIL_REQUIRE_ASAN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    st = make_stack(nginx=False, module=module)
    asan_dir = os.path.join(st.root, "asan")
    os.makedirs(asan_dir)
    env = {
        "LD_PRELOAD": "%s %s" % (asan_runtime(), module),
        # exitcode=0: nginx's own exit-time leaks must not fail `nginx`
        # itself; every report is read below instead.
        "ASAN_OPTIONS": "detect_leaks=1:exitcode=0:fast_unwind_on_malloc=0:"
                        "malloc_context_size=40:log_path=%s/asan" % asan_dir,
        "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s/ubsan" % asan_dir,
    }
    st.start_nginx(env=env)
    mark = st.error_log_size()
    workers = st.worker_pids()
    assert_health_ok(health(st))

    abandon_while_redis_is_slow(st)
    abandon_while_postgres_is_frozen(st)
    check_abandoned_requests_left_nothing(st, mark, workers)

    # Leaks are reported when the processes exit.
    st.stop_nginx()
    findings = sanitizer_findings(asan_dir)
    assert not findings, "%d sanitizer findings:\n%s" % (
        len(findings), "\n".join(findings[:5])[:8000])


# --- PostgreSQL on a socket libpq moves to ------------------------------------

class SslRefusingProxy:
    """A TCP proxy to PostgreSQL that agrees to SSL and then hangs up, as a
    server whose SSL is broken may: libpq (sslmode=prefer) then tries again
    without SSL, on a new socket, which usually gets the descriptor number
    of the one it has just closed."""

    def __init__(self, target):
        self.target = target
        self.hung_up = 0
        self.proxied = 0
        self.live = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        head = b""
        while len(head) < 8:
            data = c.recv(8 - len(head))
            if not data:
                c.close()
                return
            head += data
        if struct.unpack("!II", head)[1] == 80877103:       # SSLRequest
            # "S", then no handshake: the client's SSL fails
            self.hung_up += 1
            c.sendall(b"S")
            c.close()
            return
        u = socket.create_connection(("127.0.0.1", self.target))
        u.sendall(head)
        with self.lock:
            self.proxied += 1
            self.live += 1
        threading.Thread(target=self._pipe, args=(c, u), daemon=True).start()
        self._pipe(u, c)
        with self.lock:
            self.live -= 1

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_the_pool_follows_libpq_to_a_new_socket(make_stack):
    """sslmode=prefer against a server whose SSL fails: every connection of
    every worker's pool comes up on its second socket (before, the module
    kept watching the first one's descriptor number, which the new socket
    usually reuses, and that connection timed out for ever)."""
    st = make_stack(nginx=False)
    proxy = SslRefusingProxy(st.pg_port)
    try:
        st.start_nginx(pg_conninfo="hostaddr=127.0.0.1 port=%d dbname=dukcapil"
                       " user=dukcapil sslmode=prefer" % proxy.port)
        pool = 4 * len(st.worker_pids())      # dukcapil_postgres_pool 4
        # well within dukcapil_postgres_timeout (2 s): no connect times out
        wait_until(lambda: proxy.live >= pool, 1.5,
                   what="%d connections through the proxy's second sockets"
                   % pool)
        assert proxy.hung_up >= pool
        assert_health_ok(health(st))
        assert_no_alerts(st)
    finally:
        proxy.close()


def test_the_pool_comes_up_on_the_second_host_of_a_conninfo(make_stack):
    """A multi-host conninfo whose first host is down (nothing listens):
    libpq goes on to the next one, and the module with it."""
    st = make_stack(nginx=False)
    st.start_nginx(pg_conninfo="hostaddr=127.0.0.1,127.0.0.1 port=%d,%d "
                   "dbname=dukcapil user=dukcapil" % (free_port(), st.pg_port))
    wait_until(lambda: health_ok(st), 10, what="postgres on the second host")
    assert_health_ok(health(st))


def test_a_silent_redis_fails_what_comes_past_its_queue_at_once(make_stack):
    """Redis stopped with its socket open (a black hole): a worker keeps at
    most dukcapil_redis_queue commands unanswered; a request past them is
    answered 503 at once, not after dukcapil_redis_timeout, and the worker
    serves again as soon as Redis answers. The queue leaves room for a new
    connection's AUTH, its five SCRIPT LOADs (book, release, calendar and
    the two of phone verification) and the health check's PING."""
    queue = 7
    st = make_stack(extra_http="dukcapil_redis_queue %d;" % queue)
    assert_health_ok(health(st))
    mark = st.error_log_size()
    req = request_bytes("GET", "/api/v1/availability?office=mpp"
                        "&from=2030-01-07&to=2030-01-07", port=st.http_port)
    st.freeze_redis()
    try:
        answers = burst([(st.http_port, req)] * 40, timeout=10)
    finally:
        st.thaw_redis()

    assert [getattr(r, "status", r) for r in answers] == [503] * 40
    waited = [r.elapsed for r in answers if r.elapsed >= 0.4]
    assert len(waited) <= queue * len(st.worker_pids()), sorted(waited)
    assert any("unanswered, failing new ones at once" in line
               for line in st.error_log_lines(mark))
    time_until_healthy(st)
    assert_health_ok(health(st))
