#!/usr/bin/python3
"""How far one Redis carries the rush: one nginx, then two nginx on one Redis
(issue 16's "scale beyond one box"; a benchmark, not a test).

Two nginx on this machine share its 2 cores with wrk, Redis and PostgreSQL,
so their sum cannot show what two machines would do. What does carry over
to more machines is what Redis spends per booking: its CPU time per request
(from /proc, less noisy than requests/s on a shared box) and how busy its
one thread was. From those:

    bookings/s one Redis thread can decide = 1 / (Redis CPU per booking)
    nginx machines one Redis serves      = that / (one machine's rush rate)

Scenarios, each with one nginx (2 workers) and with two nginx (1 worker
each, the same 2 workers in all, a wrk of half the connections on each):

  rush     the 07:00 rush as (a) of bench_appointments.py: a full day, a
           fresh NIK per request, every answer 409 quota_full, decided by
           book.lua alone
  booking  successful bookings (quota raised high): book.lua, then the row
           in PostgreSQL, then the admission settled in Redis

Baselines in the same run: the `return 200` ceiling of the same nginx, and
redis-benchmark running the same EVALSHA (Redis's own rate for the script
with no nginx in the way).

    /usr/bin/python3 tests/bench/bench_scale.py [--duration 8]
"""

import argparse
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # stack/
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))  # helpers
sys.path.insert(0, HERE)

from stack import Stack  # noqa: E402
from bench_appointments import (CONNS, book_script, cpu_seconds,  # noqa: E402
                                fmt, open_dates, redis_baseline,
                                script_calls, wrk)

import json  # noqa: E402
import urllib.request  # noqa: E402


def book_one(url, date):
    req = urllib.request.Request(
        url + "/api/v1/appointments", method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"nik": "1471010101900001", "name": "Pertama",
                         "phone": "081200000001", "service": "ktp",
                         "office": "mpp", "date": str(date)}).encode())
    assert urllib.request.urlopen(req).status == 201


def run_on(stacks, duration, script_of):
    """wrk on every stack at once (CONNS connections in all, one wrk thread
    each); Redis's and every worker's CPU over the same time."""
    base = stacks[0]
    redis_pid = base.redis_pid()
    workers = [p for st in stacks for p in st.worker_pids()]
    calls0 = script_calls(base)
    cpu0 = (cpu_seconds(redis_pid), sum(cpu_seconds(p) for p in workers))
    results = [None] * len(stacks)

    def one(k):
        results[k], _ = wrk(stacks[k].nginx_url + "/api/v1/appointments",
                            duration, script_of(k),
                            conns=CONNS // len(stacks),
                            threads=2 // len(stacks))

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(k,))
               for k in range(len(stacks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    redis_cpu = cpu_seconds(redis_pid) - cpu0[0]
    nginx_cpu = sum(cpu_seconds(p) for p in workers) - cpu0[1]
    requests = sum(r["requests"] for r in results)
    return {
        "each": results,
        "rps": sum(r["rps"] for r in results),
        "requests": requests,
        "non2xx": sum(r["non2xx"] for r in results),
        "p99": max(r["p99"] or 0 for r in results),
        "redis_us": redis_cpu * 1e6 / max(requests, 1),
        "nginx_us": nginx_cpu * 1e6 / max(requests, 1),
        "redis_busy": redis_cpu / wall,
        "per_call": requests / max(script_calls(base) - calls0, 1),
        "cmd": results[0]["cmd"],
    }


def show(name, r):
    each = " + ".join("%.0f" % x["rps"] for x in r["each"])
    print("%-26s %8.0f req/s (%s)  p99 %6.2f ms  non-2xx %d/%d"
          % (name, r["rps"], each, r["p99"], r["non2xx"], r["requests"]))
    print("%-26s Redis %.1f us/request, busy %.0f%% of one core; nginx "
          "%.1f us/request; %.1f bookings per book.lua call"
          % ("", r["redis_us"], 100 * r["redis_busy"], r["nginx_us"],
             r["per_call"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=8)
    a = ap.parse_args()

    st = Stack(tempfile.mkdtemp(prefix="dukcapil-bench-scale-", dir="/tmp"),
               fast=True, persistence=False, workers=2)
    others = []
    try:
        st.start(scheduler=False)
        days = open_dates()
        full, bookday = days[0], days[1]
        r = st.redis()
        r.hset("dk:{mpp:%s}:day" % full, "q:ktp", 1)
        r.close()
        book_one(st.nginx_url, full)
        r = st.redis()
        r.hset("dk:{mpp:%s}:day" % bookday, "q:ktp", 100000000)
        r.close()

        d = a.duration
        print("machine: %d cores; %d connections in all, %d s per run\n"
              % (os.cpu_count(), CONNS, d))
        ceiling, _ = wrk(st.nginx_url + "/ceiling", d)
        print("ceiling   return 200, GET      " + fmt(ceiling))
        redis = redis_baseline(st, full, d)
        print("redis     EVALSHA book.lua -P1 " + fmt(redis[1]))
        print("redis     EVALSHA, 16 bookings a call  %.0f bookings/s"
              % redis["x16"]["rps"])
        print()

        rush = {}
        book = {}
        rush[1] = run_on([st], d, lambda k: book_script(0, full))
        book[1] = run_on([st], d, lambda k: book_script(100000000, bookday))

        # the second nginx: its own folder and port, the same Redis and
        # PostgreSQL; one worker each, so that the workers are as many
        st.stop_nginx()
        st.workers = 1
        st.start_nginx()
        other = Stack(tempfile.mkdtemp(prefix="dukcapil-bench-scale2-",
                                       dir="/tmp"),
                      redis_port=st.redis_port, pg_port=st.pg_port,
                      fast=True, persistence=False, workers=1)
        others.append(other)
        other.share_redis_credentials(st)
        other.share_token_secret(st)
        other.start_nginx()
        pair = [st, other]
        rush[2] = run_on(pair, d,
                         lambda k: book_script(200000000 + k * 50000000,
                                               full))
        book[2] = run_on(pair, d,
                         lambda k: book_script(300000000 + k * 50000000,
                                               bookday))

        show("rush, one nginx", rush[1])
        show("rush, two nginx", rush[2])
        show("booking, one nginx", book[1])
        show("booking, two nginx", book[2])
        print("\ntwo nginx / one nginx: rush %.2f x, booking %.2f x "
              "(the same 2 cores: ~1 x means nginx, not Redis, is the limit)"
              % (rush[2]["rps"] / rush[1]["rps"],
                 book[2]["rps"] / book[1]["rps"]))

        print("\nwhat one Redis thread carries (1 / its CPU per request):")
        for name, x in (("rush, one nginx", rush[1]),
                        ("rush, two nginx", rush[2]),
                        ("booking, one nginx", book[1]),
                        ("booking, two nginx", book[2])):
            cap = 1e6 / max(x["redis_us"], 1e-3)
            print("  %-20s %8.0f requests/s = %5.1f x this box's rate"
                  % (name, cap, cap / x["rps"]))
        print("  redis-benchmark -P1 ran book.lua at %.0f/s, 16 a call at "
              "%.0f bookings/s" % (redis[1]["rps"], redis["x16"]["rps"]))

        print("\ncommands:\n  " + ceiling["cmd"] + "\n  " + rush[1]["cmd"]
              + "\n  " + redis[1]["cmd"])
    finally:
        for o in others:
            o.destroy()
        st.destroy()


if __name__ == "__main__":
    main()
