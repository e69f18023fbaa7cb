"""dukcapil-scheduler run: slots at WIB times exactly once across instances,
the missed slot at start-up, signals, systemd notification, the command line."""

import datetime
import os
import signal
import socket
import time

from helpers import wib_midnight
from scheduler_fixtures import (  # noqa: F401
    SCHEDULER, sched, sched_stack, seed_completed, wait_until)


def clock_before(hh, mm, seconds):
    """DK_CLOCK_OFFSET that puts the scheduler `seconds` before HH:MM WIB
    today."""
    target = wib_midnight() + hh * 3600 + mm * 60 - seconds
    return {"DK_CLOCK_OFFSET": str(int(target - time.time()))}


def slot_utc(days_from_today, hh, mm):
    t = wib_midnight(days_from_today) + hh * 3600 + mm * 60
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def assert_never_two_at_once(runs):
    spans = sorted((r["started_at"], r["finished_at"]) for r in runs)
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert e1 is not None and e1 <= s2, spans


def test_two_daemons_and_a_once_run_each_slot_once_never_two_at_once(sched):
    seed_completed(sched, 60)
    env = clock_before(2, 0, 5)
    cfg = sched.config(jobs__delivery_batch__at="02:00",
                       jobs__reconcile__at="03:00",
                       delivery__per_night_cap=7)
    a = sched.start("run", config=cfg, env=env)
    b = sched.start("run", config=cfg, env=env)
    onces = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = sched.run("once", "delivery-batch", config=cfg, env=env)
        assert r.returncode in (0, 75), r.stderr
        onces.append(r.returncode)
        time.sleep(0.2)

    today_slot = slot_utc(0, 2, 0)
    wait_until(lambda: any(r["slot"] == today_slot and r["outcome"] == "ok"
                           for r in sched.runs()), 15, what="the 02:00 slot")
    time.sleep(1.5)                 # the other daemon has had its chance

    runs = sched.runs()
    slots = [(r["job"], r["slot"]) for r in runs if r["slot"] is not None]
    # yesterday's slots were missed (the daemons were down): once each at
    # start-up; today's 02:00 once, when it came
    assert sorted(slots) == sorted([("delivery-batch", slot_utc(-1, 2, 0)),
                                    ("delivery-batch", today_slot),
                                    ("reconcile", slot_utc(-1, 3, 0))])
    assert all(r["outcome"] == "ok" for r in runs)
    assert_never_two_at_once([r for r in runs if r["job"] == "delivery-batch"])
    assert 0 in onces

    batched = sum(r["counts"]["batched"] for r in runs
                  if r["job"] == "delivery-batch")
    assert sched.value("SELECT count(*) FROM delivery") == batched
    assert sched.value("SELECT count(DISTINCT application_id)"
                       " FROM delivery") == batched

    logs = sched.log_of(a) + sched.log_of(b)
    assert logs.count("trigger=slot") == 3
    assert "slot_skipped" in logs

    # a restart finds its slots done and runs nothing again
    assert sched.stop(a) == 0 and sched.stop(b) == 0
    c = sched.start("run", config=cfg, env=env)
    sched.wait_log(c, "slot_skipped job=reconcile")
    assert sched.stop(c) == 0
    assert len(sched.runs()) == len(runs)


def test_runs_left_running_by_a_crash_are_marked_failed_at_start(sched):
    sched.sql("INSERT INTO scheduler_run (job, reason, host, pid)"
              " VALUES ('reconcile', 'once', 'elsewhere', 1)")
    d = sched.start("run", config=sched.config())
    sched.wait_log(d, "stale_runs_failed count=1")
    assert sched.stop(d) == 0
    first = sched.runs()[0]
    assert first["outcome"] == "failed" and "died" in first["error"]


def test_sighup_reloads_and_a_bad_file_keeps_the_old_configuration(sched):
    env = clock_before(12, 0, 0)            # 12:00 WIB on the scheduler's clock
    cfg = sched.config(jobs__delivery_batch__at="11:00",
                       jobs__reconcile__at="11:00")
    d = sched.start("run", config=cfg, env=env)
    sched.wait_log(d, "run_end job=reconcile")
    n = len(sched.runs())

    # a bad file (an unknown key): logged, the old configuration kept
    with open(cfg, "a") as f:
        f.write("jobs:\n  cleanup:\n    at: \"11:30\"\n")
    d.send_signal(signal.SIGHUP)
    sched.wait_log(d, "config_reload_failed")
    assert "unknown key 'jobs.cleanup'" in sched.log_of(d)
    time.sleep(1.5)
    assert d.poll() is None and len(sched.runs()) == n

    # a good one: its new time (11:30, passed) is a slot not yet run
    sched.config(name=os.path.basename(cfg),
                 jobs__delivery_batch__at="11:30", jobs__reconcile__at="11:00")
    d.send_signal(signal.SIGHUP)
    sched.wait_log(d, "config_reloaded")
    wait_until(lambda: len(sched.runs()) == n + 1, 10, what="the new slot")
    assert sched.runs()[-1]["slot"] == slot_utc(0, 11, 30)
    assert sched.stop(d) == 0


def test_sigterm_exits_0_and_systemd_hears_ready_reloading_stopping(sched):
    path = os.path.join(sched.st.root, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    try:
        d = sched.start("run", config=sched.config(),
                        env={"NOTIFY_SOCKET": path})
        seen = []

        def hear(what):
            while not any(what in m for m in seen):
                seen.append(sock.recv(4096).decode())

        hear("READY=1")
        d.send_signal(signal.SIGHUP)
        hear("RELOADING=1")
        assert sched.stop(d) == 0
        hear("STOPPING=1")
        assert "event=daemon_stop" in sched.log_of(d)
    finally:
        sock.close()


def test_a_second_sigterm_ends_the_process_at_once(sched):
    # a past booked appointment locked by us: the run's no-show update waits
    sched.sql("INSERT INTO appointment (code, nik, name, phone, office,"
              " service, date, queue_number) VALUES ('A-0000-0000-0001',"
              " '1471014101000001', 'W', '+6281300000001', 'mpp', 'ktp',"
              " current_date - 3, 1)")
    conn = sched.db()
    conn.autocommit = False
    try:
        with conn.cursor() as c:
            c.execute("SELECT 1 FROM appointment FOR UPDATE")
        d = sched.start("once", "reconcile", config=sched.config())
        sched.wait_log(d, "run_start job=reconcile")
        time.sleep(0.3)
        d.send_signal(signal.SIGTERM)       # waits for a safe point ...
        time.sleep(0.5)
        assert d.poll() is None
        d.send_signal(signal.SIGTERM)       # ... the second does not
        assert d.wait(10) == -signal.SIGTERM
    finally:
        conn.rollback()
        conn.close()
    # the next run finds the dead one and records it failed
    r = sched.run("once", "reconcile", config=sched.config())
    assert r.returncode == 0, r.stderr
    assert [x["outcome"] for x in sched.runs()] == ["failed", "ok"]
    assert sched.value("SELECT status FROM appointment") == "no_show"


def test_check_config_and_the_command_line(sched):
    good = sched.config()
    r = sched.run("check-config", good)
    assert r.returncode == 0 and "ok" in r.stdout

    bad = sched.config(name="bad.yaml", delivery__batch_size=0)
    r = sched.run("check-config", bad)
    assert r.returncode == 1
    assert "bad.yaml:" in r.stderr and "delivery.batch_size" in r.stderr

    with open(bad, "w") as f:
        f.write("postgres:\n  conninfo: x\n  pool: 3\n")
    r = sched.run("check-config", bad)
    assert r.returncode == 1 and ":3:3: unknown key 'postgres.pool'" in r.stderr

    r = sched.run("--help")
    assert r.returncode == 0 and "exit codes" in r.stdout
    for args in (["once"], ["once", "import-delivery"], ["frobnicate"],
                 ["check-config"], ["run", "--bogus"]):
        assert sched.run(*args, config=good).returncode == 2, args

    down = sched.config(name="down.yaml",
                        postgres__conninfo="hostaddr=127.0.0.1 port=1")
    assert sched.run("once", "reconcile", config=down).returncode == 69
    assert os.path.exists(SCHEDULER)
