"""dukcapil-scheduler reconcile: Redis made to agree with PostgreSQL while
bookings go on; past days closed; a lost Redis rebuilt."""

import threading
import time

from scheduler_fixtures import (  # noqa: F401
    Booker, assert_day_consistent, code, day_keys, sched, sched_stack,
    wait_until)
from helpers import wib_day

OFFICE = "mpp"


def active_codes(sched, date, office=OFFICE):
    return {r[0] for r in sched.sql(
        "SELECT code FROM appointment WHERE office = %s AND date = %s"
        " AND status IN ('booked', 'checked_in')", (office, date))}


def test_reconcile_removes_orphans_restores_lost_and_recounts(sched):
    d1 = wib_day(1)
    book = Booker(sched)
    try:
        assert [book(n, OFFICE, "ktp", d1, 50) for n in range(1, 11)] == \
            ["ok"] * 10
        assert book(11, OFFICE, "kk", d1, 50) == "ok"
    finally:
        book.close()
    sched.sql("INSERT INTO quota_override (office, service, date, quota,"
              " set_by) VALUES (%s, 'kia', %s, 0, 'ops')", (OFFICE, d1))

    r = sched.redis()
    day, adm, nik, phone = day_keys(OFFICE, d1)
    now_ms = int(time.time() * 1000)
    # a booking that never committed, long ago; one in flight right now
    r.hset(adm, code("A", 500), "ktp|1471014101000500|+6281300000500|11|%d"
           % (now_ms - 3600 * 1000))
    r.hset(adm, code("A", 501), "ktp|1471014101000501|+6281300000501|12|%d"
           % now_ms)
    # admissions Redis lost, and counters gone wrong
    r.hdel(adm, code("A", 3), code("A", 4))
    r.hset(day, mapping={"n:ktp": 99, "s:ktp": 40, "q:pindah": 7})
    r.delete(phone)

    res = sched.run("once", "reconcile", config=sched.config())
    assert res.returncode == 0, res.stderr
    counts = sched.runs()[-1]["counts"]
    assert counts["admissions_removed"] == 1
    assert counts["admissions_restored"] == 2
    assert counts["admissions_in_flight"] == 1
    assert counts["days"] == 16 * 15

    got = assert_day_consistent(r, OFFICE, d1)
    assert set(got) == active_codes(sched, d1) | {code("A", 501)}
    fields = r.hgetall(day)
    assert fields["n:ktp"] == "11"                 # 10 rows + 1 in flight
    assert fields["s:ktp"] == "40"                 # never decreases
    assert fields["q:kia"] == "0"                  # the override, from PG
    assert "q:pindah" not in fields                # no row, no override
    assert fields["n:kk"] == "1"

    # every other day of the window exists, empty and consistent
    d14 = wib_day(14)
    assert r.hget(day_keys("kulim", d14)[0], "n:ktp") == "0"
    assert not r.exists(day_keys(OFFICE, wib_day(15))[0])


def past_appointment(sched, n, nik, days_ago, status):
    date = wib_day(-days_ago)
    sched.sql("INSERT INTO appointment (code, nik, name, phone, office,"
              " service, date, queue_number, status, created_at,"
              " checked_in_at) VALUES (%s, %s, 'W', '+6281300000001', %s,"
              " 'ktp', %s, %s, %s, now() - interval '60 days',"
              " CASE WHEN %s = 'checked_in' THEN now() END)",
              (code("A", n), nik, OFFICE, date, n, status, status))
    return date


def test_past_days_become_no_shows_bars_and_dropped_keys(sched):
    barred, once, came, old = ("1471014101000001", "1471014101000002",
                               "1471014101000003", "1471014101000004")
    past_appointment(sched, 1, barred, 10, "booked")
    last = past_appointment(sched, 2, barred, 3, "booked")
    past_appointment(sched, 3, once, 2, "booked")
    past_appointment(sched, 4, came, 1, "checked_in")
    past_appointment(sched, 5, came, 5, "no_show")
    past_appointment(sched, 6, old, 40, "no_show")     # outside 30 days
    past_appointment(sched, 7, old, 2, "booked")

    r = sched.redis()
    yesterday = wib_day(-1)
    for k in day_keys(OFFICE, yesterday):
        r.hset(k, "x", "1")
    r.set("dk:bar:1471014101009999", "2030-01-01")     # no longer barred
    today_day = day_keys(OFFICE, wib_day())[0]

    res = sched.run("once", "reconcile", config=sched.config())
    assert res.returncode == 0, res.stderr

    assert sched.sql("SELECT code, status FROM appointment ORDER BY code") == [
        (code("A", 1), "no_show"), (code("A", 2), "no_show"),
        (code("A", 3), "no_show"), (code("A", 4), "checked_in"),
        (code("A", 5), "no_show"), (code("A", 6), "no_show"),
        (code("A", 7), "no_show")]
    until = sched.value("SELECT (%s::date + 14)::text", (last,))
    assert r.get("dk:bar:" + barred) == until
    assert r.get("dk:bar:" + came) is None             # one came: 1 no-show
    assert r.get("dk:bar:" + once) is None
    assert r.get("dk:bar:" + old) is None
    assert r.get("dk:bar:1471014101009999") is None
    # expires at the end of the bar's last day, WIB
    y, m, d = map(int, until.split("-"))
    end = int(time.mktime((y, m, d + 1, 0, 0, 0, 0, 0, 0)) - time.timezone) \
        - 7 * 3600
    assert abs(r.expiretime("dk:bar:" + barred) - end) <= 1
    assert not any(r.exists(k) for k in day_keys(OFFICE, yesterday))
    assert r.exists(today_day)
    counts = sched.runs()[-1]["counts"]
    assert counts["no_shows_marked"] == 4 and counts["bars"] == 1
    assert counts["bars_lifted"] == 1 and counts["past_keys_dropped"] == 4

    # the bar keys come back after a lost Redis, from PostgreSQL
    r.flushall()
    res = sched.run("once", "reconcile",
                    config=sched.config(redis__rebuild_settle_seconds=0))
    assert res.returncode == 0, res.stderr
    assert r.get("dk:bar:" + barred) == until and r.exists("dk:epoch")


def test_the_night_ends_a_past_days_call_left_open(sched):
    """A citizen called at a counter on a past day and never finished (the
    operator pressed neither "Selesai" nor "Tidak hadir") becomes a no-show
    at the counter in the scheduler's reconcile: ended by the scheduler, the
    call's counter in its history row; one left checked_in stays so."""
    past_appointment(sched, 1, "1471014101000011", 1, "checked_in")
    past_appointment(sched, 2, "1471014101000012", 1, "checked_in")
    sched.sql("UPDATE appointment SET status = 'called', calls = 1,"
              " counter = '2', called_at = now(), step_by = 'petugas'"
              " WHERE code = %s", (code("A", 1),))

    res = sched.run("once", "reconcile", config=sched.config())
    assert res.returncode == 0, res.stderr

    assert sched.sql("SELECT code, status, finished_by FROM appointment"
                     " ORDER BY code") == [
        (code("A", 1), "no_show", "scheduler"),
        (code("A", 2), "checked_in", None)]
    assert sched.sql("SELECT h.from_status, h.to_status, h.actor, h.counter"
                     "  FROM appointment_history h"
                     "  JOIN appointment a ON a.id = h.appointment_id"
                     " WHERE a.code = %s ORDER BY h.id", (code("A", 1),)) == [
        ("checked_in", "called", "petugas", "2"),
        ("called", "no_show", "scheduler", "2")]
    assert sched.runs()[-1]["counts"]["no_shows_marked"] == 1


def test_calls_the_night_closed_never_bar_absences_at_the_counter_do(sched):
    """Two past calls left open (the operator said neither "Selesai" nor
    "Tidak hadir": the citizen came, and may well have been served) are
    no-shows of the night that bar no one; two absences said at the counter
    bar their NIK as two missed appointments do."""
    left, absent = "1471014101000021", "1471014101000022"
    for n, nik, days_ago in ((1, left, 2), (2, left, 3), (3, absent, 2),
                             (4, absent, 3)):
        past_appointment(sched, n, nik, days_ago, "checked_in")
        sched.sql("UPDATE appointment SET status = 'called', calls = 1,"
                  " counter = '1', called_at = now(), step_by = 'petugas'"
                  " WHERE code = %s", (code("A", n),))
    for n in (3, 4):
        sched.sql("UPDATE appointment SET status = 'no_show',"
                  " finished_at = now(), finished_by = 'petugas',"
                  " step_by = 'petugas' WHERE code = %s", (code("A", n),))

    res = sched.run("once", "reconcile", config=sched.config())
    assert res.returncode == 0, res.stderr

    assert sched.sql("SELECT nik, status, finished_by FROM appointment"
                     " ORDER BY code") == [
        (left, "no_show", "scheduler"), (left, "no_show", "scheduler"),
        (absent, "no_show", "petugas"), (absent, "no_show", "petugas")]
    r = sched.redis()
    assert r.get("dk:bar:" + left) is None
    assert r.get("dk:bar:" + absent) == sched.value(
        "SELECT (%s::date + 14)::text", (wib_day(-2),))
    assert sched.runs()[-1]["counts"]["bars"] == 1


def test_a_phone_with_no_shows_is_barred_whatever_its_niks(sched):
    """Two NIKs booked with one phone and did not come, once each: no NIK
    is barred, the phone is (a bot cannot go on with fresh NIKs)."""
    first, second = "1471014101000011", "1471014101000012"
    past_appointment(sched, 1, first, 4, "booked")
    last = past_appointment(sched, 2, second, 2, "booked")
    r = sched.redis()
    r.set("dk:bar:phone:+6281300000099", "2030-01-01")  # no longer barred

    res = sched.run("once", "reconcile", config=sched.config())
    assert res.returncode == 0, res.stderr

    until = sched.value("SELECT (%s::date + 14)::text", (last,))
    assert r.get("dk:bar:phone:+6281300000001") == until
    assert r.get("dk:bar:" + first) is None and r.get("dk:bar:" + second) \
        is None
    assert r.get("dk:bar:phone:+6281300000099") is None
    counts = sched.runs()[-1]["counts"]
    assert counts["phone_bars"] == 1 and counts["phone_bars_lifted"] == 1
    assert counts["bars"] == 0


def test_drift_and_a_flushall_while_bookings_go_on_never_overbook(sched):
    """Four bookers against two days of quota 25 while drift is injected,
    reconcile runs over and over, and Redis loses everything once. The
    daemon notices the loss and rebuilds; meanwhile nobody is admitted."""
    quota = 25
    days = [wib_day(1), wib_day(2)]
    cfg = sched.config(redis__epoch_check_seconds=1,
                       redis__rebuild_settle_seconds=1,
                       appointments__admission_grace_seconds=2)
    daemon = sched.start("run", config=cfg)
    sched.wait_log(daemon, "event=run_end job=reconcile")

    stop = threading.Event()
    outcomes = {}
    lock = threading.Lock()

    def booker(k):
        book = Booker(sched)
        n = k * 100000
        try:
            while not stop.is_set():
                n += 1
                date = days[n % 2]
                ans = book(n, OFFICE, "ktp", date, quota)
                with lock:
                    outcomes[ans] = outcomes.get(ans, 0) + 1
                if ans == "ok" and n % 7 == 0:
                    book.cancel(code("A", n), OFFICE, date)
                time.sleep(0.002)
        finally:
            book.close()

    threads = [threading.Thread(target=booker, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    r = sched.redis()
    try:
        time.sleep(0.5)
        for i in range(3):
            adm = day_keys(OFFICE, days[0])[1]
            r.hset(adm, code("A", 900 + i), "ktp|14710141019%05d|+62813999%05d"
                   "|99|%d" % (i, i, int(time.time() * 1000) - 10 ** 7))
            victims = list(r.hkeys(adm))[:2]
            if victims:
                r.hdel(adm, *victims)        # lost admissions
            res = sched.run("once", "reconcile", config=cfg)
            assert res.returncode in (0, 75), res.stderr
            time.sleep(0.3)

        r.flushall()
        flushed = time.monotonic()
        wait_until(lambda: r.exists("dk:epoch"), 15, what="the rebuild")
        assert time.monotonic() - flushed < 12
        time.sleep(1)
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert outcomes.get("rebuilding", 0) > 0, outcomes
    assert outcomes.get("full", 0) > 0, outcomes
    # no day ever holds more active appointments than its quota
    for date in days:
        assert len(active_codes(sched, date)) <= quota
    sched.stop(daemon)

    # after the bookings, one more reconcile: Redis is exactly PostgreSQL
    time.sleep(2)                             # past the grace period
    res = sched.run("once", "reconcile", config=cfg)
    assert res.returncode == 0, res.stderr
    for date in days:
        adm = assert_day_consistent(r, OFFICE, date)
        assert set(adm) == active_codes(sched, date)
        assert int(r.hget(day_keys(OFFICE, date)[0], "n:ktp")) <= quota
    runs = sched.runs("reconcile")
    assert any(x["reason"] == "epoch_missing" and x["outcome"] == "ok"
               for x in runs)
    assert all(x["outcome"] == "ok" for x in runs)


def test_sigterm_mid_reconcile_stops_at_a_safe_point(sched):
    cfg = sched.config(appointments__window_days=366)
    p = sched.start("once", "reconcile", config=cfg)
    sched.wait_log(p, "event=run_start")
    time.sleep(0.3)
    assert sched.stop(p) == 0
    run = sched.runs()[-1]
    assert run["outcome"] == "interrupted", run
    assert 0 < run["counts"]["days"] < 16 * 367
    r = sched.redis()
    # each day was reconciled whole; the state is still complete
    assert r.exists("dk:epoch")
    for date in (wib_day(), wib_day(1)):
        assert_day_consistent(r, OFFICE, date)
