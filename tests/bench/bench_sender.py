#!/usr/bin/python3
"""Benchmark of the outbox's sender (issue 13), not a test:

  1. the gateway's raw capacity: a plain Python client (as many threads as
     the sender has messages in flight, keep-alive) POSTing to the local
     gateway (tests/e2e/gateway.py, a process of its own) for a few seconds:
     the baseline of the same run;
  2. sender throughput: N notification rows written in one statement while
     `dukcapil-scheduler run` listens; messages/s from the first row's
     created_at to the last sent_at (PostgreSQL's clock), over the baseline;
  3. OTP latency: POST /api/v1/phone-verifications at 50 requests/s (a new
     phone each), from the moment a request leaves to the moment the gateway
     reads its message; p50 and p99.

Targets: >= 500 messages/s; OTP p99 <= 2 s.

    /usr/bin/python3 tests/bench/bench_sender.py     (or: make bench)

Starts its own PostgreSQL, Redis and nginx (stack/) in a folder under /tmp
and removes it afterwards.
"""

import concurrent.futures
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # stack/

from stack import REPO, Stack, free_port  # noqa: E402

SCHEDULER = os.environ.get("DUKCAPIL_SCHEDULER") or \
    os.path.join(REPO, "build", "dukcapil-scheduler")
GATEWAY = os.path.join(REPO, "tests", "e2e", "gateway.py")
MESSAGES = int(os.environ.get("BENCH_SENDER_MESSAGES", "10000"))
IN_FLIGHT = 32
OTP_RATE = 50
OTP_SECONDS = int(os.environ.get("BENCH_OTP_SECONDS", "20"))
BASELINE_SECONDS = 5


def start_gateway(root):
    port = free_port()
    log = os.path.join(root, "gateway-%d.log" % port)
    p = subprocess.Popen([sys.executable, GATEWAY, str(port), log],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    p.port, p.log = port, log
    return p


def stop_gateway(p):
    """Stops it; its lines: [(wall second, to, id)]."""
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    with open(p.log) as f:
        return [(float(a), b, c) for a, b, c in
                (l.split() for l in f if l.strip())]


def baseline_wrk(root, port, seconds=BASELINE_SECONDS):
    """Requests/s the gateway answers to wrk: as many connections as the
    sender's messages in flight, keep-alive, the same POST."""
    script = os.path.join(root, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                'wrk.headers["Idempotency-Key"] = "1"\n'
                'wrk.body = \'{"id":"1","to":"+6281234567890",'
                '"channel":"whatsapp","text":"%s"}\'\n' % ("x" * 120))
    out = subprocess.run(["wrk", "-t", "1", "-c", str(IN_FLIGHT), "-d",
                          "%ds" % seconds, "-s", script,
                          "http://127.0.0.1:%d/v1/messages" % port],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit("wrk said:\n" + out)


def baseline(port, seconds=BASELINE_SECONDS, threads=IN_FLIGHT):
    """Requests/s the gateway answers to a plain keep-alive client loop."""
    body = json.dumps({"id": "1", "to": "+6281234567890",
                       "channel": "whatsapp", "text": "x" * 120})
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def loop(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            c.request("POST", "/v1/messages", body,
                      {"Content-Type": "application/json",
                       "Idempotency-Key": str(i)})
            r = c.getresponse()
            r.read()
            assert r.status == 200
            counts[i] += 1
        c.close()

    start = time.monotonic()
    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def config(st, port, token):
    path = os.path.join(st.root, "bench-sender.yaml")
    with open(path, "w") as f:
        f.write("""postgres:
  conninfo: "%s"
redis:
  address: "127.0.0.1:%d"
  auth_file: "%s"
delivery:
  outbox_dir: "%s"
jobs:
  delivery_batch:
    at: "%s"
  reconcile:
    at: "%s"
notification:
  channel: http
  http:
    url: "http://127.0.0.1:%d/v1/messages"
    token_file: "%s"
    rate: 20000
    max_in_flight: %d
    timeout_ms: 10000
  poll_seconds: 5
""" % (st.pg_conninfo, st.redis_port, st.redis_auth_file,
            os.path.join(st.root, "outbox"),
            # the nightly jobs stay out of the way of the measure
            time.strftime("%H:%M", time.gmtime(time.time() + 7 * 3600 - 3600)),
            time.strftime("%H:%M", time.gmtime(time.time() + 7 * 3600 - 3600)),
            port, token, IN_FLIGHT))
    return path


def start_daemon(st, cfg):
    log = open(os.path.join(st.root, "bench-sender.log"), "w")
    d = subprocess.Popen([SCHEDULER, "-c", cfg, "run"], stdout=log,
                         stderr=log)
    deadline = time.monotonic() + 30
    while "sender_connected" not in open(log.name).read():
        if time.monotonic() > deadline or d.poll() is not None:
            raise SystemExit("the daemon did not start:\n"
                             + open(log.name).read()[-2000:])
        time.sleep(0.05)
    # its start-up jobs (the missed slots) done: the sender alone is measured
    while sum(open(log.name).read().count(w)
              for w in ("run_end", "slot_skipped")) < 2:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return d


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(st):
    st.psql("TRUNCATE notification RESTART IDENTITY")
    st.psql("INSERT INTO notification (kind, phone, params)"
            " SELECT 'delivery_delivered', '+62812' || lpad(g::text, 8, '0'),"
            " jsonb_build_object('code', 'P-0000-0000-' || lpad((g %% 10000)"
            "::text, 4, '0')) FROM generate_series(1, %d) g" % MESSAGES)
    deadline = time.monotonic() + 300
    while int(st.psql("SELECT count(*) FROM notification"
                      " WHERE status = 'sent'")) < MESSAGES:
        if time.monotonic() > deadline:
            raise SystemExit("not all sent in 300 s")
        time.sleep(0.2)
    secs = float(st.psql("SELECT extract(epoch FROM max(sent_at)"
                         " - min(created_at)) FROM notification"))
    return MESSAGES / secs, secs


def otp_latency(st):
    """(latencies in seconds, answers not 201)"""
    sent, bad = {}, []
    n = OTP_RATE * OTP_SECONDS
    t0 = time.time() + 0.5

    def one(i):
        phone = "+62813%08d" % (50000000 + i)
        time.sleep(max(0, t0 + i / OTP_RATE - time.time()))
        c = http.client.HTTPConnection("127.0.0.1", st.http_port, timeout=10)
        at = time.time()
        c.request("POST", "/api/v1/phone-verifications",
                  json.dumps({"phone": phone}),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 201:
            bad.append(r.status)
        sent[phone] = at

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        list(pool.map(one, range(n)))
    return sent, bad


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    root = tempfile.mkdtemp(prefix="dukcapil-bench-sender-", dir="/tmp")
    st = Stack(root, fast=True, persistence=False)
    token = os.path.join(root, "gateway.token")
    with open(token, "w") as f:
        f.write("bench-token\n")
    os.chmod(token, 0o600)
    os.makedirs(os.path.join(root, "outbox"), exist_ok=True)
    d = None
    try:
        st.start(scheduler=False, phone_verification=True)
        gw = start_gateway(root)
        base = baseline(gw.port)
        stop_gateway(gw)
        gw = start_gateway(root)
        base_wrk = baseline_wrk(root, gw.port)
        stop_gateway(gw)

        gw = start_gateway(root)
        d = start_daemon(st, config(st, gw.port, token))
        cpu0 = cpu_seconds(d.pid)
        rate, secs = throughput(st)
        cpu = cpu_seconds(d.pid) - cpu0
        stop_gateway(gw)
        d.send_signal(signal.SIGTERM)
        d.wait(30)

        gw = start_gateway(root)
        d = start_daemon(st, config(st, gw.port, token))
        st.psql("TRUNCATE notification RESTART IDENTITY")
        sent, bad = otp_latency(st)
        time.sleep(3)
        lines = stop_gateway(gw)
        got = {to: at for at, to, _ in lines}
        lat = [got[p] - t for p, t in sent.items() if p in got]
        missing = len(sent) - len(lat)
    finally:
        if d is not None and d.poll() is None:
            d.send_signal(signal.SIGTERM)
            d.wait(30)
        st.destroy()

    print("machine: %s, %d CPUs, load average %.1f (other work shares them)"
          % (platform.node(), os.cpu_count(), os.getloadavg()[0]))
    print()
    print("| measure | figure | target |")
    print("|---|---|---|")
    print("| gateway raw capacity (Python client, %d threads, keep-alive) |"
          " %.0f requests/s | baseline |" % (IN_FLIGHT, base))
    print("| gateway raw capacity (wrk, 1 thread, %d connections) |"
          " %.0f requests/s | baseline |" % (IN_FLIGHT, base_wrk))
    print("| sender throughput, %d messages (%d in flight) | %.0f messages/s"
          " in %.2f s (%.2fx the Python client, %.2fx wrk) | >= 500/s |"
          % (MESSAGES, IN_FLIGHT, rate, secs, rate / base, rate / base_wrk))
    print("| the daemon's CPU for them | %.2f s (%.0f us a message) | |"
          % (cpu, cpu / MESSAGES * 1e6))
    print("| OTP latency at %d requests/s, %d requests: POST to gateway |"
          " p50 %.0f ms, p99 %.0f ms, max %.0f ms | p99 <= 2 s |"
          % (OTP_RATE, len(sent), pct(lat, 50) * 1000, pct(lat, 99) * 1000,
             max(lat) * 1000))
    print("| OTP requests not answered 201 / messages not received | %d / %d"
          " | 0 / 0 |" % (len(bad), missing))
    ok = rate >= 500 and pct(lat, 99) <= 2 and not bad and not missing
    print()
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
