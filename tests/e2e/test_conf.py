"""The production example conf/nginx.conf is a configuration nginx accepts,
and its access log never holds a citizen's NIK, phone or KK.

It is checked with `nginx -t` as shipped, with only what cannot exist on a
test machine put aside: the certificate (TLS is swapped for a plain listen on
loopback), the system paths (pid, logs, the module) and the `www-data` user.
"""

import base64
import os
import re
import secrets
import shutil
import subprocess

import pytest

from stack import REPO, free_port, wait_until
from helpers import http_for, raw_request, request_bytes
from appointments_helpers import BOOK, AVAIL, booking, first_open_date, \
    make_nik, make_phone
from applications_helpers import APPS, OPS_CHECK_IN, application, make_kk

CONF = os.path.join(REPO, "conf")
MODULE = os.path.join(REPO, "build", "ngx_http_dukcapil_module.so")


def production_conf_for_test(dirname):
    text = open(os.path.join(CONF, "nginx.conf")).read()
    auth = os.path.join(dirname, "redis.auth")
    with open(auth, "w") as f:
        f.write("dukcapil not-a-real-password\n")
    os.chmod(auth, 0o600)
    secret = os.path.join(dirname, "token.secret")
    with open(secret, "w") as f:
        f.write("x" * 64 + "\n")
    os.chmod(secret, 0o600)
    swaps = [
        (r"load_module \S+;", "load_module %s;" % MODULE),
        (r"dukcapil_redis_auth\s+/etc/dukcapil/redis.auth;",
         "dukcapil_redis_auth %s;" % auth),
        (r"dukcapil_token_secret\s+/etc/dukcapil/token.secret;",
         "dukcapil_token_secret %s;" % secret),
        (r"\nuser www-data;", "\n"),
        (r"pid /run/nginx.pid;", "pid %s/nginx.pid;" % dirname),
        (r"/var/log/nginx/", dirname + "/"),
        (r"listen 443 ssl http2;", "listen 127.0.0.1:%d;" % free_port()),
        (r"\n\s*ssl_certificate(_key)? [^;]+;", "\n"),
    ]
    for pattern, replacement in swaps:
        text, n = re.subn(pattern, replacement, text)
        assert n >= 1, "conf/nginx.conf no longer has %r" % pattern
    return text


@pytest.mark.skipif(not os.path.exists(MODULE), reason="module not built")
def test_production_example_passes_nginx_t(tmp_path):
    d = str(tmp_path)
    for name in ("dukcapil-api.conf", "dukcapil-portal.conf",
                 "dukcapil-ops-access.conf"):
        shutil.copy(os.path.join(CONF, name), d)
    open(os.path.join(d, "dukcapil-ops.htpasswd"), "w").close()
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(production_conf_for_test(d))

    r = subprocess.run(["nginx", "-t", "-p", d + "/", "-c", path, "-e",
                        os.path.join(d, "error.log")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)

    assert r.returncode == 0, r.stdout
    assert "test is successful" in r.stdout


def test_production_example_speaks_tls_1_2_and_up_and_verifies_postgres():
    """Citizens reach the portal over TLS 1.2 or 1.3 only; the module reaches
    a PostgreSQL on another machine over TLS whose certificate it checks,
    never over `prefer`, which takes a plain connection as well."""
    text = open(os.path.join(CONF, "nginx.conf")).read()
    protocols = re.findall(r"^\s*ssl_protocols\s+([^;]+);", text, re.M)
    assert protocols == ["TLSv1.2 TLSv1.3"], protocols
    conninfo = dict(kv.split("=", 1) for kv in re.search(
        r'^\s*dukcapil_postgres\s+"([^"]+)"', text, re.M).group(1).split())
    assert conninfo["sslmode"] == "verify-full"
    assert conninfo["sslrootcert"].startswith("/")
    assert conninfo["hostaddr"] and conninfo["host"]  # connect; verify


def test_access_log_format_leaves_out_citizens_numbers():
    text = open(os.path.join(CONF, "nginx.conf")).read()
    fmt = re.search(r"log_format portal (.*?);", text, re.S).group(1)

    # the query string and the headers could carry them: neither is logged
    assert "$request " not in fmt and "$request_uri" not in fmt
    assert "$args" not in fmt and "$http_x_nik" not in fmt
    assert "$request_body" not in fmt


def access_log_conf(path):
    """(log_format portal's text, the access_log line) of an nginx.conf."""
    text = open(path).read()
    fmt = re.search(r"log_format portal (.*?);", text, re.S).group(1)
    log = re.search(r"\n\s*(access_log \S+ .*?);", text).group(1)
    return " ".join(fmt.split()), log.split(None, 2)[2]


def test_demo_stack_logs_as_the_production_example():
    """The demo stack (what the test below runs) has the production
    example's log format and buffering, so that test proves the example."""
    demo = access_log_conf(os.path.join(CONF, "demo", "nginx.conf.in"))
    production = access_log_conf(os.path.join(CONF, "nginx.conf"))
    assert demo == production
    assert production[1] == "portal buffer=64k flush=1s"
    # what it takes of the path, the User-Agent and the user name is cut at
    # a run of 10 digits by the module
    for raw in ("$uri", "$http_user_agent", "$remote_user"):
        assert raw not in production[0]
    for ours in ("$dukcapil_log_uri", "$dukcapil_log_agent",
                 "$dukcapil_log_user"):
        assert ours in production[0]


# A citizen whose numbers no other test uses, sent everywhere a request can
# carry them. The phone is looked for by its digits after 0 / +62, which
# both of its written forms (and their URL encodings) contain.
PROBE = 4242
NIK, KK, PHONE = make_nik(PROBE), make_kk(PROBE), make_phone(PROBE)
SECRETS = {"NIK": NIK, "KK": KK, "phone": PHONE[1:]}
QUERY = "nik=%s&kk=%s&phone=%s&hp=%%2B62%s" % (NIK, KK, PHONE, PHONE[1:])
HEADERS = {
    "X-NIK": NIK,
    "X-KK": KK,
    "X-Phone": "+62" + PHONE[1:],
    "Referer": "http://127.0.0.1/portal/cek?%s" % QUERY,
    "Cookie": "nik=%s; kk=%s; hp=%s" % (NIK, KK, PHONE),
    "X-Forwarded-For": NIK,
    "Origin": "http://%s.invalid" % PHONE,
}


def probes(date, code):
    """(method, path, body, status) of requests that carry the probe's numbers
    in the query string and in bodies, to every endpoint family, answered
    with success and with each kind of error (None: any 4xx). `code` is the
    probe's appointment on `date`."""
    book = booking(PROBE, date, nik=NIK, phone=PHONE)
    app = application(PROBE, "pickup")
    assert (app["nik"], app["kk"], app["phone"]) == (NIK, KK, PHONE)
    too_large = dict(app, name="Warga " + NIK * 1100)
    return [
        ("GET", AVAIL + "?office=mpp&from=%s&to=%s&" % (date, date) + QUERY,
         None, 200),
        ("POST", BOOK + "?" + QUERY, book, 409),           # already booked
        ("POST", BOOK + "?" + QUERY, dict(book, date="2001-01-01"), 422),
        ("GET", "%s/%s?%s" % (BOOK, code, QUERY), None, 200),
        ("POST", APPS + "?" + QUERY, app, 201),
        ("POST", APPS + "?" + QUERY, too_large, 413),
        ("POST", APPS + "?" + QUERY, "nik=%s&kk=%s" % (NIK, KK), None),
        ("POST", OPS_CHECK_IN % code + "?" + QUERY, {"nik": NIK}, 401),
        ("GET", "/nowhere?" + QUERY, None, 404),
        ("DELETE", "%s/%s?%s" % (BOOK, code, QUERY), None, 200),
    ]


def logged_lines(stack, markers, timeout=15):
    """The access log once it holds a line of every marker (the log is
    buffered for up to a second, per worker)."""
    def text():
        try:
            with open(stack.access_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
    wait_until(lambda: all(m in text() for m in markers), timeout,
               interval=0.2, what="the probes' lines in the access log")
    return text()


def test_access_log_never_holds_a_nik_phone_or_kk(stack):
    """A citizen's NIK, KK and phone sent in the query string, in request
    headers (X-NIK, Referer, Cookie, ...) and in bodies, to each endpoint
    family, succeeding and failing: none of them reaches the access log.
    Each request's User-Agent (which the format logs) is a marker (with no
    run of digits the format would mask): the test reads the log once every
    request's line is in it."""
    http = http_for(stack)
    markers = []

    def send(method, path, body):
        markers.append("dk-log-probe-%d-%s" % (len(markers),
                                               secrets.token_hex(4)))
        return http.request(method, path, body, headers=dict(
            HEADERS, **{"User-Agent": markers[-1]}))

    date = first_open_date()
    r = send("POST", BOOK + "?" + QUERY,
             booking(PROBE, date, nik=NIK, phone=PHONE))
    assert r.status == 201, r
    for method, path, body, status in probes(date, r.json()["code"]):
        r = send(method, path, body)
        if status is not None:
            assert r.status == status, (method, path, r)
        else:
            assert 400 <= r.status < 500, (method, path, r)
    # an HTTP/1.0 request and a header sent twice, from a raw socket
    markers.append("dk-log-probe-raw-%s" % secrets.token_hex(4))
    raw = request_bytes("GET", "%s?%s" % (AVAIL, QUERY), headers=dict(
        HEADERS, **{"User-Agent": markers[-1]}), port=stack.http_port)
    raw = raw.replace(b"HTTP/1.1", b"HTTP/1.0", 1).replace(
        b"\r\n\r\n", b"\r\nX-NIK: %s\r\n\r\n" % NIK.encode(), 1)
    assert raw_request(stack.http_port, raw).startswith(b"HTTP/1.1 ")

    log = logged_lines(stack, markers)

    leaked = {name: [l for l in log.splitlines() if value in l][:3]
              for name, value in SECRETS.items() if value in log}
    assert not leaked, "the access log holds %s" % leaked


def test_access_log_never_holds_a_number_typed_where_it_does_not_belong(
        stack):
    """What the format does log (the path, the User-Agent, a Basic user
    name) holds no run of 10 digits: a NIK typed where a code goes, a phone
    in a User-Agent, a KK as a user name are left out; the line stays."""
    http = http_for(stack)
    marker = "dk-log-probe-path-%s" % secrets.token_hex(4)
    basic = "Basic " + base64.b64encode(("%s:x" % KK).encode()).decode()
    sent = [
        ("%s/%s" % (BOOK, NIK), {"User-Agent": marker + "-1"}),
        ("%s/%s/check-in" % (OPS_CHECK_IN.rsplit("/", 2)[0], NIK),
         {"User-Agent": marker + "-2"}),
        (AVAIL, {"User-Agent": marker + "-3 Phone/" + PHONE}),
        (AVAIL, {"User-Agent": marker + "-4", "Authorization": basic}),
    ]
    for path, headers in sent:
        r = http.get(path, headers=dict(headers, **{"X-NIK": NIK}))
        assert 400 <= r.status < 500, (path, r)

    log = logged_lines(stack, [marker + "-%d" % i for i in range(1, 5)])

    leaked = [l for l in log.splitlines()
              if NIK in l or KK in l or PHONE[1:] in l]
    assert not leaked, leaked
    lines = [l for l in log.splitlines() if marker in l]
    assert any('"GET %s/*"' % BOOK in l for l in lines), lines
    assert any(marker + '-3 Phone/*"' in l for l in lines), lines
