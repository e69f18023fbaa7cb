#!/usr/bin/python3
"""Benchmark of dukcapil-scheduler (not a test): wall time and peak memory of

  1. delivery-batch over 100,000 completed `post` applications (budget and
     per-night cap large enough to batch them all, batches of 100, every
     manifest written and fsynced);
  2. reconcile over 14 days x 7 services x 16 offices holding 50,000 active
     appointments: with Redis in agreement (a normal night), and as a rebuild
     from an empty Redis (FLUSHALL: everything restored).

Targets (issue 5): delivery-batch < 30 s, reconcile < 5 s, peak RSS < 64 MB.

    /usr/bin/python3 tests/bench/bench_scheduler.py     (or: make bench)

Starts its own PostgreSQL and Redis (stack/) in a folder under /tmp
and removes it afterwards. Prints a Markdown table for BENCHMARKS.md.
"""

import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # stack/

from stack import REPO, Stack  # noqa: E402

SCHEDULER = os.environ.get("DUKCAPIL_SCHEDULER") or \
    os.path.join(REPO, "build", "dukcapil-scheduler")
APPLICATIONS = 100_000
APPOINTMENTS = 50_000


def run(binary, args):
    """Runs the scheduler; (seconds, peak RSS in MB, its log)."""
    with tempfile.TemporaryFile("w+") as log:
        start = time.monotonic()
        p = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL,
                             stderr=log)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.monotonic() - start
        log.seek(0)
        err = log.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit("%s failed (%d):\n%s" % (args, code, err[-3000:]))
    return elapsed, usage.ru_maxrss / 1024.0, err


def config(st, outbox):
    path = os.path.join(st.root, "bench.yaml")
    with open(path, "w") as f:
        f.write("""postgres:
  conninfo: "%s"
redis:
  address: "127.0.0.1:%d"
  auth_file: "%s"
  rebuild_settle_seconds: 0
delivery:
  budget_total: 1000000
  per_night_cap: 1000000
  batch_size: 100
  outbox_dir: "%s"
appointments:
  window_days: 14
""" % (st.pg_conninfo, st.redis_port, st.redis_auth_file, outbox))
    return path


SEED_APPLICATIONS = """
INSERT INTO application (code, service, nik, kk, name, phone, status,
    delivery_method, street, rt, rw, kelurahan, kecamatan_written,
    postal_code, kecamatan_code, completed_at)
SELECT 'P-' || substr(h, 1, 4) || '-' || substr(h, 5, 4) || '-'
            || substr(h, 9, 4),
       (ARRAY['ktp','kk','akta_lahir','akta_mati','kia','pindah'])[g %% 6 + 1],
       '1471014101' || lpad(g::text, 6, '0'), '1471010101010001',
       'Warga Nomor ' || g, '+62812' || lpad(g::text, 8, '0'), 'completed',
       'post', 'Jl. Melur No. ' || g, '001', '002', k.name, k.kecamatan,
       k.postal_code, k.kecamatan_code,
       timestamptz '2026-01-01 08:00+07' + g * interval '1 second'
FROM generate_series(1, %d) g,
     LATERAL (SELECT upper(lpad(to_hex(g), 12, '0')) AS h) c,
     LATERAL (SELECT l.name, kc.name AS kecamatan, l.postal_code,
                     l.kecamatan_code
              FROM kelurahan l JOIN kecamatan kc ON kc.code = l.kecamatan_code
              ORDER BY l.code OFFSET g %% 83 LIMIT 1) k
"""

SEED_APPOINTMENTS = """
INSERT INTO appointment (code, nik, name, phone, office, service, date,
    queue_number, created_at)
SELECT 'A-' || substr(h, 1, 4) || '-' || substr(h, 5, 4) || '-'
            || substr(h, 9, 4),
       '1471014101' || lpad(g::text, 6, '0'), 'Warga',
       '+62813' || lpad((g %% 20000)::text, 8, '0'),
       o.code, s.code, (now() AT TIME ZONE 'Asia/Jakarta')::date + 1 + d,
       row_number() OVER (PARTITION BY o.code, s.code, d ORDER BY g),
       now() - interval '1 hour'
FROM generate_series(1, %d) g,
     LATERAL (SELECT upper(lpad(to_hex(g), 12, '0')) AS h,
                     g %% 14 AS d) c,
     LATERAL (SELECT code FROM office ORDER BY code
              OFFSET (g / 14) %% 16 LIMIT 1) o,
     LATERAL (SELECT code FROM service ORDER BY code
              OFFSET (g / 224) %% 7 LIMIT 1) s
"""


def main():
    if not os.path.exists(SCHEDULER):
        raise SystemExit("build it first: make scheduler")
    st = Stack(tempfile.mkdtemp(prefix="dukcapil-bench-", dir="/tmp"),
               fast=False, persistence=False)
    rows = []
    try:
        st.start_postgres()
        st.start_redis()
        outbox = os.path.join(st.root, "outbox")
        os.makedirs(outbox)
        cfg = config(st, outbox)

        print("seeding %d applications, %d appointments ..."
              % (APPLICATIONS, APPOINTMENTS), flush=True)
        st.psql(SEED_APPLICATIONS % APPLICATIONS)
        st.psql(SEED_APPOINTMENTS % APPOINTMENTS)
        st.psql("VACUUM ANALYZE")

        t, rss, log = run(SCHEDULER, ["-c", cfg, "once", "delivery-batch"])
        phases = [l.split()[0][3:] + " " + l.split()[2][6:] for l in
                  log.splitlines() if "event=run_start" in l or
                  "event=claim_committed" in l or "event=run_end" in l]
        print("delivery-batch phases: " + ", ".join(phases), flush=True)
        batched = int(st.psql("SELECT count(*) FROM delivery"))
        files = len(os.listdir(outbox))
        assert batched == APPLICATIONS, batched
        rows.append(("delivery-batch: %d applications -> %d manifests"
                     % (batched, files), t, rss, 30))

        r = st.redis()
        r.flushall()            # then a rebuild: everything restored
        t, rss, _ = run(SCHEDULER, ["-c", cfg, "once", "reconcile"])
        assert r.exists("dk:epoch")
        rows.append(("reconcile: rebuild of an empty Redis, %d appointments"
                     % APPOINTMENTS, t, rss, 5))

        t, rss, _ = run(SCHEDULER, ["-c", cfg, "once", "reconcile"])
        rows.append(("reconcile: Redis in agreement (a normal night)",
                     t, rss, 5))
        r.close()
    finally:
        st.destroy()

    print()
    print("Machine: %s, %d CPUs, PostgreSQL 15 (fsync on), Redis 7; "
          "`%s`" % (platform.machine(), os.cpu_count(),
                    "/usr/bin/python3 tests/bench/bench_scheduler.py"))
    print()
    print("| run | wall time | peak RSS | target |")
    print("|---|---|---|---|")
    ok = True
    for name, t, rss, target in rows:
        met = t < target and rss < 64
        ok &= met
        print("| %s | %.2f s | %.1f MB | < %d s, < 64 MB %s |"
              % (name, t, rss, target, "met" if met else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
