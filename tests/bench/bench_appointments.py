#!/usr/bin/python3
"""Benchmark of the appointment path (issue 3; a benchmark, not a test).

wrk on loopback against nginx + ngx_dukcapil_module, each scenario printed as
requests/s, p50, p99 and as a ratio against baselines measured in the same
run:

  ceiling   wrk on `location = /ceiling { return 200 }` of the same nginx:
            plain GETs, and the very POSTs of (a) (the same wrk script
            making the same bodies), since wrk's Lua request() costs the
            2 shared cores a third more per request than a plain GET
  redis     redis-benchmark running the same EVALSHA (book.lua, SCRIPT LOAD)
            on a full day with a fresh NIK per booking: one booking per
            call, and 16 per call as a worker sends them at the rush
  pgbench   pgbench running the same INSERT INTO appointment (prepared),
            and that INSERT with the outbox row the booking writes with it

  (a) full day, fresh NIK every request (all 409 quota_full), 256 conns
      target >= 0.45 x ceiling and p99 <= 20 ms; both ceilings shown
  (b) availability reads (one day; and the whole 14-day window)
      target >= 0.5 x ceiling
  (c) successful bookings, quota raised high (all 201)
      target >= 0.5 x pgbench's insert rate
  memory: RSS of the nginx workers before and after 1,000,000 requests of
      the mixed scenarios (a)+(b)+(c); target: within 5 MB
  (d) (a) as the portal sends it: every booking with a phone_token and an
      Idempotency-Key (phone verification on); target >= 0.45 x ceiling
      and p99 <= 20 ms

    /usr/bin/python3 tests/bench/bench_appointments.py [--duration 8]
                                                       [--mixed 1000000]
    (or: make bench)

Starts its own PostgreSQL, Redis and nginx (stack/, fsync off like
the tests) in a folder under /tmp and removes it afterwards. wrk, nginx,
Redis and PostgreSQL share the machine's cores: figures are for this box.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # stack/
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))  # helpers

from stack import REDIS_USER, REPO, Stack  # noqa: E402
from helpers import wib_today  # noqa: E402

BOOK_LUA = os.path.join(REPO, "ngx_dukcapil_module", "lua", "book.lua")
CONNS = 256

# wrk: a booking per request with a fresh NIK and phone (make_nik of
# tests/e2e/appointments_helpers.py, in Lua). BASE separates runs.
BOOK_WRK = r"""
local counter = 0
local threads = {}
local base = %(base)d
function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end
local floor = math.floor
local function nik(i)
    local serial = i %% 9999 + 1
    local j = floor(i / 9999)
    local day = j %% 28 + 1
    j = floor(j / 28)
    local month = j %% 12 + 1
    j = floor(j / 12)
    local year = j %% 100
    local kec = floor(j / 100) %% 15 + 1
    return string.format("1471%%02d%%02d%%02d%%02d%%04d", kec, day, month,
                         year, serial)
end
local headers = {["Content-Type"] = "application/json"}
%(extra)s
function request()
    counter = counter + 1
    local i = base + (tid or 1) * 20000000 + counter
    %(pick)s
end
"""

BOOK_PICK = """
    return wrk.format("POST", BOOK_PATH, headers,
        string.format('{"nik":"%s","name":"Warga Bench","phone":"0812%08d",' ..
                      '"service":"ktp","office":"mpp","date":"%s"}',
                      nik(i), i % 100000000, DATE))
"""

# (d): (a) as the portal sends it: a phone_token of the body's phone and an
# Idempotency-Key, both fresh per request (the tokens made in Python with
# the stack's secret, KEYED_PHONES of them, cycled)
KEYED_PICK = """
    local k = i %% KEYED_PHONES + 1
    headers["Idempotency-Key"] = string.format("bench-%%d-%%012d", tid or 1,
                                               counter)
    return wrk.format("POST", BOOK_PATH, headers,
        string.format('{"nik":"%%s","name":"Warga Bench","phone":"%%s",' ..
                      '"phone_token":"%%s","service":"ktp",' ..
                      '"office":"mpp","date":"%%s"}',
                      nik(i), PHONES[k], TOKENS[k], DATE))
""".replace("%%", "%")
KEYED_PHONES = 1000


def keyed_extra(secret):
    """The Lua tables of the keyed scenario: phones and their tokens."""
    expiry = int(time.time()) + 6 * 3600
    phones, tokens = [], []
    for k in range(KEYED_PHONES):
        phone = "0813%08d" % k
        phones.append('"%s"' % phone)
        tokens.append('"%s"' % phone_token(secret, "+62" + phone[1:], expiry))
    return ("local KEYED_PHONES = %d\nlocal PHONES = {%s}\n"
            "local TOKENS = {%s}\n"
            % (KEYED_PHONES, ",".join(phones), ",".join(tokens)))


def phone_token(secret, phone_e164, expiry):
    """A phone_token as the module makes it (domain/token.h)."""
    head = bytes([1]) + struct.pack(">Q", expiry)
    mac = hmac.new(secret, b"dk-phone-token" + head + phone_e164.encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(head + mac).rstrip(b"=").decode()


MIXED_EXTRA = """
local avail = "/api/v1/availability?office=mpp&from=" .. DATE .. "&to=" .. DATE
"""

# mixed: 45 % full-day bookings, 45 % availability, 10 % successful bookings
MIXED_PICK = """
    local k = counter % 20
    if k < 9 then
        return wrk.format("POST", BOOK_PATH, headers,
            string.format('{"nik":"%s","name":"Warga Bench","phone":"0812%08d",' ..
                          '"service":"ktp","office":"mpp","date":"%s"}',
                          nik(i), i % 100000000, DATE))
    elseif k < 18 then
        return wrk.format("GET", avail)
    else
        return wrk.format("POST", BOOK_PATH, headers,
            string.format('{"nik":"%s","name":"Warga Bench","phone":"0812%08d",' ..
                          '"service":"kk","office":"mpp","date":"%s"}',
                          nik(i), i % 100000000, DATE2))
    end
"""


def open_dates():
    today = wib_today()
    days = [today + datetime.timedelta(days=k) for k in range(1, 15)]
    return [d for d in days if d.weekday() != 6]


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$",
                                       out, re.M):
        lat[pct] = to_ms(value, unit)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non2xx = int(m.group(1)) if m else 0
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
            "requests": total, "non2xx": non2xx,
            "socket_errors": errors.group(1) if errors else None}


def cpu_seconds(pid):
    """user + system CPU time of a process so far"""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, duration, script=None, conns=CONNS, threads=2, timeout="5s",
        st=None):
    """One wrk run; with st, also the CPU time per request of the nginx
    workers and of Redis (less noisy than requests/s on a shared box), and
    how many booking script calls Redis ran."""
    procs = {}
    if st:
        procs = {"nginx": st.worker_pids(), "redis": [st.redis_pid()]}
        calls = script_calls(st)
        commands = redis_commands(st)
    before = {k: sum(cpu_seconds(p) for p in v) for k, v in procs.items()}
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration,
           "--latency", "--timeout", timeout]
    path = None
    if script:
        fd, path = tempfile.mkstemp(suffix=".lua", prefix="dk-bench-")
        with os.fdopen(fd, "w") as f:
            f.write(script)
        cmd += ["-s", path]
    cmd.append(url)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             check=True).stdout
    finally:
        if path:
            os.unlink(path)
    r = parse_wrk(out)
    r["cpu"] = {k: (sum(cpu_seconds(p) for p in v) - before[k]) * 1e6
                / max(r["requests"], 1) for k, v in procs.items()}
    if st:
        r["script_calls"] = script_calls(st) - calls
        r["redis_calls"] = redis_commands(st) - commands
    r["cmd"] = " ".join(c if c != path else "<generated.lua>" for c in cmd)
    return r, out


def script_calls(st):
    r = st.redis(decode_responses=True)
    try:
        return r.info("commandstats").get("cmdstat_evalsha",
                                          {}).get("calls", 0)
    finally:
        r.close()


def book_script(base, date, extra="", pick=BOOK_PICK, date2=None,
                path="/api/v1/appointments"):
    text = BOOK_WRK % {"base": base, "extra": extra, "pick": pick}
    return ('local DATE = "%s"\nlocal DATE2 = "%s"\nlocal BOOK_PATH = "%s"\n'
            % (date, date2 or date, path) + text)


def redis_baseline(st, date, duration):
    """redis-benchmark: the booking EVALSHA on a full day, fresh NIK
    (random 12 digits after 1471) per call; 256 connections; the module
    pipelines, so a pipelined run (-P 16) is shown as well."""
    r = st.redis()
    with open(BOOK_LUA, "rb") as f:
        sha = r.script_load(f.read())
    assert sha == hashlib.sha1(open(BOOK_LUA, "rb").read()).hexdigest()
    # the call's last argument: the history of the master (its
    # master_replid), which dk:epoch names while the state is whole
    history = r.get("dk:epoch").decode()
    r.close()
    keys = ["dk:epoch", "dk:bar:1471__rand_int__",
            "dk:{mpp:%s}:day" % date, "dk:{mpp:%s}:adm" % date,
            "dk:{mpp:%s}:nik" % date, "dk:{%s}:phone" % date,
            "dk:bar:phone:+6281200000000", "dk:epoch"]
    expire = int(time.time()) + 30 * 86400
    args = ["ktp", "150", "1471__rand_int__", "+6281200000000", "5",
            "A-BENC-HBEN-CHXX", str(int(time.time() * 1000)), str(expire),
            "1000", "0", "0", "0", "", ""]
    results = {}
    # (pipeline, bookings per call)
    for pipeline, per_call in ((1, 1), (16, 1), (1, 16)):
        n = 400000 if pipeline == 1 else 2000000
        n //= per_call
        cmd = ["redis-benchmark", "-p", str(st.redis_port), "-c", str(CONNS),
               "-n", str(n), "-r", "1000000000000", "-P", str(pipeline),
               "--csv", "EVALSHA", sha, str(8 * per_call)]
        cmd += keys * per_call + args * per_call + [history]
        # as the module's Redis user (its ACL checks are part of the cost);
        # the password is left out of the command line shown
        auth = ["--user", REDIS_USER, "-a", st.redis_password(REDIS_USER)]
        out = subprocess.run(cmd[:1] + auth + cmd[1:], capture_output=True,
                             text=True, check=True).stdout
        line = [l for l in out.strip().split("\n") if l.startswith('"EVALSHA')]
        fields = [x.strip('"') for x in line[-1].split('","')]
        # "test","rps","avg","min","p50","p95","p99","max"; rps: bookings/s
        results[pipeline if per_call == 1 else "x%d" % per_call] = {
            "rps": float(fields[1]) * per_call, "p50": float(fields[4]),
            "p99": float(fields[6]),
            "cmd": " ".join(cmd[:cmd.index("EVALSHA")])
            + " EVALSHA <sha1 of book.lua> %d " % (8 * per_call)
            + ("%s %s <history>" if per_call == 1
               else "(%s) x%d (%s) x%d <history>")
            % ((" ".join(keys), " ".join(args)) if per_call == 1 else
               (" ".join(keys), per_call, " ".join(args), per_call))}
    return results


PGBENCH_SQL = r"""
\set n random(1, 999999999999)
INSERT INTO appointment (code, nik, name, phone, office, service, date,
                         queue_number)
VALUES ('A-' || substr(lpad(:n::text, 12, '0'), 1, 4) || '-'
             || substr(lpad(:n::text, 12, '0'), 5, 4) || '-'
             || substr(lpad(:n::text, 12, '0'), 9, 4),
        lpad(:n::text, 16, '1'), 'Warga Bench', '+62812' || lpad((:n::bigint % 100000000)::text, 8, '0'),
        'mpp', 'akta_mati', '{date}'::date, (:n::bigint % 2000000000)::integer + 1)
ON CONFLICT DO NOTHING;
"""

# the same row and the outbox row that tells its citizen, in one statement
# as the module writes them (sql.c, sql/011): what PostgreSQL itself must do
# for a booking since issue 13
PGBENCH_SQL_OUTBOX = r"""
\set n random(1, 999999999999)
WITH booked AS (
INSERT INTO appointment (code, nik, name, phone, office, service, date,
                         queue_number)
VALUES ('A-' || substr(lpad(:n::text, 12, '0'), 1, 4) || '-'
             || substr(lpad(:n::text, 12, '0'), 5, 4) || '-'
             || substr(lpad(:n::text, 12, '0'), 9, 4),
        lpad(:n::text, 16, '1'), 'Warga Bench', '+62812' || lpad((:n::bigint % 100000000)::text, 8, '0'),
        'mpp', 'akta_mati', '{date}'::date, (:n::bigint % 2000000000)::integer + 1)
ON CONFLICT DO NOTHING RETURNING id, code, phone, queue_number)
INSERT INTO notification (kind, phone, appointment_id, params)
SELECT 'appointment_booked', b.phone, b.id,
       jsonb_build_object('code', b.code, 'date', '{date}',
                          'office_name', (SELECT name FROM office WHERE code = 'mpp'),
                          'service_name', (SELECT name FROM service WHERE code = 'akta_mati'),
                          'queue_number', b.queue_number)
  FROM booked b;
"""


def pgbench_baseline(st, date, duration):
    """pgbench: the module's prepared INSERT INTO appointment (8 values),
    strings composed from a random number; ON CONFLICT DO NOTHING so that a
    rare random collision does not abort a client; then the same with the
    outbox row the booking writes since issue 13. 8 clients (the module: 2
    workers x pool 4)."""
    results = {}
    for name, sql in (("insert", PGBENCH_SQL), ("outbox", PGBENCH_SQL_OUTBOX)):
        fd, path = tempfile.mkstemp(suffix=".sql", prefix="dk-pgbench-")
        with os.fdopen(fd, "w") as f:
            f.write(sql.replace("{date}", str(date)))
        os.chmod(path, 0o644)
        try:
            cmd = ["pgbench", "-n", "-M", "prepared", "-c", "8",
                   "-j", "2", "-T", str(duration),
                   "-f", path, st.pg_conninfo]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit("pgbench failed:\n" + p.stdout + p.stderr)
            out = p.stdout
            tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
            lat = float(re.search(r"latency average = ([\d.]+) ms",
                                  out).group(1))
            results[name] = {"rps": tps, "avg": lat,
                             "cmd": " ".join(cmd[:-3])
                             + " -f <%s.sql> <conninfo>" % name}
        finally:
            os.unlink(path)
    st.psql("DELETE FROM notification WHERE appointment_id IN (SELECT id FROM"
            " appointment WHERE service = 'akta_mati')")
    st.psql("DELETE FROM appointment WHERE service = 'akta_mati'")
    return results


def worker_rss_kb(st):
    total = 0
    for pid in st.worker_pids():
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def fmt(r, ceiling=None):
    s = "%10.0f req/s  p50 %7.2f ms  p99 %7.2f ms" % (
        r["rps"], r["p50"] or -1, r["p99"] or -1)
    if ceiling:
        s += "  = %.2f x" % (r["rps"] / ceiling)
    return s


def fmt_cpu(r):
    return "CPU per request: " + ", ".join(
        "%s %.1f us" % kv for kv in sorted(r["cpu"].items()))


def redis_commands(st):
    """Every command Redis has run (INFO commandstats)."""
    r = st.redis(decode_responses=True)
    try:
        return sum(v.get("calls", 0)
                   for v in r.info("commandstats").values())
    finally:
        r.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--mixed", type=int, default=1000000,
                    help="requests of the memory run (0: skip)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    for tool in ("wrk", "redis-benchmark", "pgbench"):
        if not shutil.which(tool):
            raise SystemExit("bench: %s missing" % tool)

    st = Stack(tempfile.mkdtemp(prefix="dukcapil-bench-appt-", dir="/tmp"),
               fast=True, persistence=False, workers=2)
    try:
        st.start(scheduler=False)
        url = st.nginx_url
        days = open_dates()
        full, bookday, mixday, mixday2 = days[0], days[1], days[2], days[3]
        r = st.redis()
        # (a) a full day: quota 1, taken
        r.hset("dk:{mpp:%s}:day" % full, "q:ktp", 1)
        r.close()
        import json
        import urllib.request
        req = urllib.request.Request(
            url + "/api/v1/appointments", method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"nik": "1471010101900001", "name": "Pertama",
                             "phone": "081200000001", "service": "ktp",
                             "office": "mpp", "date": str(full)}).encode())
        assert urllib.request.urlopen(req).status == 201
        r = st.redis()
        for d, svc in ((bookday, "ktp"), (mixday, "kk"), (mixday2, "kk")):
            r.hset("dk:{mpp:%s}:day" % d, "q:" + svc, 100000000)
        r.hset("dk:{mpp:%s}:day" % mixday, "q:ktp", 1)
        r.hset("dk:{mpp:%s}:day" % mixday, "n:ktp", 1)   # a full ktp day
        r.close()

        d = a.duration
        print("machine: %d cores, %s" % (os.cpu_count(), os.uname().release))
        print("nginx workers 2, %d connections, wrk -t2, %d s per run\n"
              % (CONNS, d))
        ceiling, _ = wrk(url + "/ceiling", d, st=st)
        print("ceiling   return 200, GET      " + fmt(ceiling))
        ceiling_post, _ = wrk(url + "/ceiling", d,
                              book_script(900000000, full, path="/ceiling"),
                              st=st)
        print("ceiling   return 200, (a)'s POSTs " + fmt(ceiling_post))
        redis = redis_baseline(st, full, d)
        for p, x in redis.items():
            if p == "x16":
                print("redis     EVALSHA book.lua, 16 bookings a call "
                      + fmt(x) + "  (bookings/s)")
            else:
                print("redis     EVALSHA book.lua -P%-2d " % p + fmt(x))
        pg = pgbench_baseline(st, bookday, d)
        for name, what in (("insert", "INSERT"),
                           ("outbox", "INSERT + outbox row")):
            print("pgbench   %-20s 8 clients %8.0f tps  avg %.2f ms"
                  % (what, pg[name]["rps"], pg[name]["avg"]))
        print()

        a_res, a_out = wrk(url + "/api/v1/appointments", d,
                           book_script(0, full), st=st)
        b1, _ = wrk(url + "/api/v1/availability?office=mpp&from=%s&to=%s"
                    % (days[0], days[0]), d)
        b14, _ = wrk(url + "/api/v1/availability?office=mpp&from=%s&to=%s"
                     % (wib_today() + datetime.timedelta(days=1),
                        wib_today() + datetime.timedelta(days=14)), d)
        before_rows = int(st.psql("SELECT count(*) FROM appointment"))
        c_res, _ = wrk(url + "/api/v1/appointments", d,
                       book_script(100000000, bookday), st=st)
        c_rows = int(st.psql("SELECT count(*) FROM appointment")) - before_rows
        c_conn = wrk(url + "/api/v1/appointments", d,
                     book_script(200000000, bookday), conns=32)[0]

        ceil = ceiling["rps"]
        pgr = pg["insert"]["rps"]
        pgo = pg["outbox"]["rps"]
        ceil_post = ceiling_post["rps"]
        print("(a) full day, fresh NIKs   " + fmt(a_res, ceil)
              + " GET ceiling, %.2f x POST ceiling   [target >= 0.45 x, "
              "p99 <= 20 ms]  409s: %d/%d"
              % (a_res["rps"] / ceil_post, a_res["non2xx"],
                 a_res["requests"]))
        print("    vs redis EVALSHA -P1    %.2f x" % (a_res["rps"]
                                                     / redis[1]["rps"]))
        for name, x in (("ceiling, GET", ceiling),
                        ("ceiling, (a)'s POSTs", ceiling_post),
                        ("(a)", a_res)):
            print("    %-22s %s" % (name, fmt_cpu(x)))
        print("    bookings per book.lua call: (a) %.1f, (c) %.1f"
              % (a_res["requests"] / max(a_res["script_calls"], 1),
                 c_res["requests"] / max(c_res["script_calls"], 1)))
        print("(b) availability, 1 day    " + fmt(b1, ceil)
              + "   [target >= 0.5 x]  non-2xx: %d" % b1["non2xx"])
        print("(b) availability, 14 days  " + fmt(b14, ceil)
              + "   non-2xx: %d" % b14["non2xx"])
        print("(c) bookings, 256 conns    " + fmt(c_res)
              + "  = %.2f x pgbench   [target >= 0.5 x]  non-2xx: %d, "
              "rows +%d" % (c_res["rps"] / pgr, c_res["non2xx"], c_rows))
        print("    = %.2f x pgbench of the same row and its outbox row"
              % (c_res["rps"] / pgo))
        print("(c) bookings,  32 conns    " + fmt(c_conn)
              + "  = %.2f x pgbench   non-2xx: %d"
              % (c_conn["rps"] / pgr, c_conn["non2xx"]))
        for name, x in (("a", a_res), ("b1", b1), ("b14", b14),
                        ("c", c_res), ("c32", c_conn)):
            if x["socket_errors"]:
                print("    socket errors in %s: %s" % (name, x["socket_errors"]))

        verdict = [
            ("(a) >= 0.45 x ceiling, the same POSTs",
             a_res["rps"] >= 0.45 * ceil_post),
            ("(a) >= 0.45 x ceiling, GET", a_res["rps"] >= 0.45 * ceil),
            ("(a) p99 <= 20 ms", (a_res["p99"] or 1e9) <= 20),
            ("(a) all 409", a_res["non2xx"] == a_res["requests"]),
            ("(b) >= 0.5 x ceiling", b1["rps"] >= 0.5 * ceil),
            ("(c) >= 0.5 x pgbench", c_res["rps"] >= 0.5 * pgr),
            ("(c) all 201", c_res["non2xx"] == 0),
        ]

        if a.mixed:
            # warm up the workers (pools, caches), then measure
            wrk(url + "/api/v1/appointments", 3,
                book_script(300000000, mixday, MIXED_EXTRA, MIXED_PICK,
                            mixday2))
            rss0 = worker_rss_kb(st)
            # wrk has no request count: 10 s runs until the total is reached
            t0 = time.monotonic()
            total, chunk = 0, 0
            while total < a.mixed:
                chunk += 1
                m, _ = wrk(url + "/api/v1/appointments", 10,
                           book_script(400000000 + chunk * 40000000, mixday,
                                       MIXED_EXTRA, MIXED_PICK, mixday2))
                total += m["requests"]
            took = time.monotonic() - t0
            m["requests"], m["rps"] = total, total / took
            rss1 = worker_rss_kb(st)
            grew = (rss1 - rss0) / 1024.0
            print("\nmemory: %d mixed requests in %.0f s (%.0f req/s): worker "
                  "RSS %.1f MB -> %.1f MB (%+.1f MB)   [target within 5 MB]"
                  % (m["requests"], took, m["rps"], rss0 / 1024.0,
                     rss1 / 1024.0, grew))
            verdict.append(("memory within 5 MB", abs(grew) <= 5.0))

        # (d) the keyed rush, on the same full day: nginx again, with phone
        # verification on (the portal's setting; a phone's cap as make run's)
        st.stop_nginx()
        st.start_nginx(workers=2, phone_verification=True, phone_active_cap=3)
        d_res, _ = wrk(url + "/api/v1/appointments", d,
                       book_script(600000000, full,
                                   keyed_extra(st.token_secret), KEYED_PICK),
                       st=st)
        print("\n(d) (a) keyed: phone_token + Idempotency-Key  " + fmt(d_res, ceil)
              + " GET ceiling   [target >= 0.45 x, p99 <= 20 ms]  409s: %d/%d"
              % (d_res["non2xx"], d_res["requests"]))
        print("    (d)                    " + fmt_cpu(d_res))
        print("    Redis calls per (d) request: %.2f"
              % (d_res.get("redis_calls", 0) / max(d_res["requests"], 1)))
        verdict += [
            ("(d) keyed >= 0.45 x ceiling, GET", d_res["rps"] >= 0.45 * ceil),
            ("(d) keyed p99 <= 20 ms", (d_res["p99"] or 1e9) <= 20),
            ("(d) keyed all 409", d_res["non2xx"] == d_res["requests"]),
        ]

        print()
        for what, ok in verdict:
            print("%-38s %s" % (what, "met" if ok else "MISSED"))
        print("\ncommands:")
        for x in (ceiling, ceiling_post, a_res, b1, c_res, d_res, redis[1],
                  redis[16], redis["x16"], pg["insert"],
                  pg["outbox"]):
            print("  " + x["cmd"])
        sev = [l for l in st.error_log_lines()
               if "[alert]" in l or "[crit]" in l or "[emerg]" in l]
        if sev:
            print("\nnginx error.log severe lines:\n" + "".join(sev[:10]))
    finally:
        if a.keep:
            st.stop()
            print("kept %s" % st.root)
        else:
            st.destroy()


if __name__ == "__main__":
    main()
